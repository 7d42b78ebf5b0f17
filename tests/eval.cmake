# Eval tests: metric agreement with the official Python scorers (pairs in tests/eval/), RULER
# generator properties, the eval CLI end to end on the tiny-chat fixture.
lj_test_program(eval_metrics SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics_test.c LIBS lj_eval)
add_test(NAME eval_metrics COMMAND eval_metrics ${CMAKE_CURRENT_SOURCE_DIR}/eval/metric_cases.jsonl)
