# ingest: extraction (PDF, XML, HTML, text), hostile inputs, windows, the extract/ingest commands.
set(_ingest_dir ${CMAKE_CURRENT_SOURCE_DIR}/ingest)

lj_test_program(test_ingest SOURCES ${_ingest_dir}/test_ingest.c LIBS lj_ingest)
add_test(NAME ingest_unit COMMAND test_ingest ${_ingest_dir})
set_tests_properties(ingest_unit PROPERTIES ENVIRONMENT "LJ_FIXTURES=${LJ_FIXTURES}" TIMEOUT 60)

# PDFs made by cairo's PDF surface (skipped cleanly when cairo is absent).
pkg_check_modules(CAIRO IMPORTED_TARGET cairo)
if(CAIRO_FOUND)
  add_executable(ingest_make_pdfs ${_ingest_dir}/make_pdfs.c)
  target_link_libraries(ingest_make_pdfs PRIVATE PkgConfig::CAIRO)
  lj_test_program(test_ingest_pdf SOURCES ${_ingest_dir}/test_ingest_pdf.c LIBS lj_ingest)
  add_test(NAME ingest_pdf COMMAND bash -c "set -e; d=$1; rm -rf $d; mkdir -p $d; ASAN_OPTIONS=detect_leaks=0 $2 $d; $3 $d" _
           ${CMAKE_CURRENT_BINARY_DIR}/ingest_pdfs $<TARGET_FILE:ingest_make_pdfs> $<TARGET_FILE:test_ingest_pdf>)
  set_tests_properties(ingest_pdf PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
else()
  message(STATUS "longjam: cairo not found, ingest_pdf test not built")
endif()

add_test(NAME ingest_cli COMMAND bash ${_ingest_dir}/cli.sh ${LJ_LONGJAM} ${_ingest_dir} ${LJ_FIXTURES}
         ${CMAKE_CURRENT_BINARY_DIR}/ingest_cli ${CMAKE_SOURCE_DIR}/samples/docs)
set_tests_properties(ingest_cli PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)

# 200 MB of generated XML through `longjam extract` in bounded memory (slow: skipped under ASan).
lj_test_program(test_ingest_bigxml SOURCES ${_ingest_dir}/test_ingest_bigxml.c LIBS lj_ingest)
add_test(NAME ingest_bigxml COMMAND test_ingest_bigxml ${LJ_LONGJAM} ${CMAKE_CURRENT_BINARY_DIR}/ingest_bigxml)
set_tests_properties(ingest_bigxml PROPERTIES LABELS slow TIMEOUT 120 SKIP_RETURN_CODE 77)
