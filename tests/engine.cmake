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
