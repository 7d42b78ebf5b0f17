# Eval tests: metric agreement with the official Python scorers (pairs in tests/eval/), RULER
# generator properties, the eval CLI end to end on the tiny-chat fixture.
lj_test_program(eval_metrics SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics_test.c LIBS lj_eval)
add_test(NAME eval_metrics COMMAND eval_metrics ${CMAKE_CURRENT_SOURCE_DIR}/eval/metric_cases.jsonl)
lj_test_program(eval_ruler SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eval/ruler_test.c LIBS lj_eval)
add_test(NAME eval_ruler COMMAND eval_ruler ${CMAKE_SOURCE_DIR}/samples/haystack/licenses.txt)
set_tests_properties(eval_ruler PROPERTIES ENVIRONMENT "LJ_FIXTURES=${LJ_FIXTURES}" SKIP_RETURN_CODE 77)
lj_test_program(eval_score SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eval/score_test.c LIBS lj_eval)
add_test(NAME eval_score COMMAND eval_score ${CMAKE_CURRENT_SOURCE_DIR}/eval/score_preds.jsonl
         ${CMAKE_CURRENT_SOURCE_DIR}/eval/score_expected.json)
add_test(NAME eval_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/eval/eval_cli.sh ${LJ_LONGJAM} ${LJ_FIXTURES} ${CMAKE_SOURCE_DIR})
set_tests_properties(eval_cli PROPERTIES SKIP_RETURN_CODE 77)
# every RULER task at 4K and 16K on tiny-chat (minutes on 2 cores)
add_test(NAME eval_cli_full COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/eval/eval_cli.sh ${LJ_LONGJAM} ${LJ_FIXTURES} ${CMAKE_SOURCE_DIR} full)
set_tests_properties(eval_cli_full PROPERTIES SKIP_RETURN_CODE 77 LABELS slow)
