# Eval tests: metric agreement with the official Python scorers (pairs in tests/eval/), RULER
# generator properties, the eval CLI end to end on the tiny-chat fixture.
lj_test_program(eval_metrics SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics_test.c LIBS lj_eval)
add_test(NAME eval_metrics COMMAND eval_metrics ${CMAKE_CURRENT_SOURCE_DIR}/eval/metric_cases.jsonl)
lj_test_program(eval_ruler SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eval/ruler_test.c LIBS lj_eval)
add_test(NAME eval_ruler COMMAND eval_ruler ${CMAKE_SOURCE_DIR}/samples/haystack/licenses.txt)
set_tests_properties(eval_ruler PROPERTIES ENVIRONMENT "LJ_FIXTURES=${LJ_FIXTURES}" SKIP_RETURN_CODE 77)
