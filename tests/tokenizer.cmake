# Tokenizer (engine/tokenizer*.c, engine/chat.c, longjam tokenize): parity with Hugging Face
# `tokenizers` on the shared fixtures and on our own cases (tests/tokenizer/, made by
# tools/make_tokenizer_tests.py), error messages, garbage input, the CLI.
lj_test_program(tokenizer_cases SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_cases.c LIBS lj_engine)

foreach(_fx mistral jamba-style)
  add_test(NAME tokenizer_fixture_${_fx}
           COMMAND tokenizer_cases ${LJ_FIXTURES}/tokenizers/${_fx}/tokenizer.json ${LJ_FIXTURES}/tokenizers/${_fx}/cases.jsonl)
  add_test(NAME tokenizer_extra_${_fx}
           COMMAND tokenizer_cases ${LJ_FIXTURES}/tokenizers/${_fx}/tokenizer.json ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer/shared-${_fx}/cases.jsonl)
  set_tests_properties(tokenizer_fixture_${_fx} tokenizer_extra_${_fx} PROPERTIES
                       ENVIRONMENT "LJ_FIXTURES=${LJ_FIXTURES}" SKIP_RETURN_CODE 77)
endforeach()

foreach(_tk gpt2-bytelevel llama3-split normalizers subword-affixes metaspace-bytes)
  add_test(NAME tokenizer_own_${_tk}
           COMMAND tokenizer_cases ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer/${_tk}/tokenizer.json ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer/${_tk}/cases.jsonl)
endforeach()

lj_test_program(tokenizer_misc SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_misc.c LIBS lj_engine)
add_test(NAME tokenizer_misc COMMAND tokenizer_misc ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(tokenizer_misc PROPERTIES ENVIRONMENT "LJ_FIXTURES=${LJ_FIXTURES}")

add_test(NAME tokenizer_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_cli.sh ${LJ_LONGJAM} ${LJ_FIXTURES})
set_tests_properties(tokenizer_cli PROPERTIES SKIP_RETURN_CODE 77)

add_test(NAME tokenizer_prompt COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_prompt.sh ${LJ_LONGJAM} ${LJ_FIXTURES})
set_tests_properties(tokenizer_prompt PROPERTIES SKIP_RETURN_CODE 77)

lj_test_program(tokenizer_regex_par SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_regex_par.c LIBS lj_engine)
add_test(NAME tokenizer_regex_par COMMAND tokenizer_regex_par)
