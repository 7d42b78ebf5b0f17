# Engine tests: model parity against the shared fixtures and tests/fixtures, state (chunking,
# fork, batching), loader errors, CLI contracts.
lj_test_program(engine_parity SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/engine_parity.c ${CMAKE_CURRENT_SOURCE_DIR}/engine_ref.c
                LIBS lj_engine)

foreach(fx tiny-fp32 tiny-bf16 tiny-chat)
  add_test(NAME engine_parity_${fx} COMMAND engine_parity ${LJ_FIXTURES}/models/${fx} 2)
  set_tests_properties(engine_parity_${fx} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()

lj_test_program(engine_state SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/engine_state.c ${CMAKE_CURRENT_SOURCE_DIR}/engine_ref.c
                LIBS lj_engine)
foreach(fx tiny-fp32 tiny-bf16)
  add_test(NAME engine_state_${fx} COMMAND engine_state ${LJ_FIXTURES}/models/${fx})
  set_tests_properties(engine_state_${fx} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()

lj_test_program(engine_tool SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/engine_tool.c ${CMAKE_CURRENT_SOURCE_DIR}/engine_ref.c
                LIBS lj_engine)
foreach(fx tiny-fp32 tiny-bf16)
  add_test(NAME engine_cli_${fx} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/engine_cli.sh ${LJ_LONGJAM}
           $<TARGET_FILE:engine_tool> ${LJ_FIXTURES}/models/${fx})
  set_tests_properties(engine_cli_${fx} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()

# Generality: fixtures of other shapes made by tools/make-engine-fixtures.sh (spec.json beside each).
file(GLOB _engine_fx LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/g-*)
foreach(dir ${_engine_fx})
  get_filename_component(fx ${dir} NAME)
  add_test(NAME engine_parity_${fx} COMMAND engine_parity ${dir} 2)
  add_test(NAME engine_state_${fx} COMMAND engine_state ${dir})
  set_tests_properties(engine_parity_${fx} engine_state_${fx} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()
add_test(NAME engine_cli_g-tied-bias COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/engine_cli.sh ${LJ_LONGJAM}
         $<TARGET_FILE:engine_tool> ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/g-tied-bias)

lj_test_program(engine_badinput SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/engine_badinput.c LIBS lj_engine)
add_test(NAME engine_badinput COMMAND engine_badinput ${LJ_FIXTURES}/models/tiny-fp32)
set_tests_properties(engine_badinput PROPERTIES SKIP_RETURN_CODE 77)

lj_test_program(engine_ops SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/engine_ops.c LIBS lj_kernels ${MATH_LIB})
add_test(NAME engine_ops COMMAND engine_ops)

lj_test_program(engine_sampler SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/engine_sampler.c LIBS lj_engine)
add_test(NAME engine_sampler COMMAND engine_sampler)
add_test(NAME engine_info_jamba_v0.1 COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/engine_info.sh ${LJ_LONGJAM}
         ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/config-jamba-v0.1)
