# Sample model (samples/model, made by tools/train-sample-model): registered only once the trained
# weights are in the tree. Parity: the engine against transformers' float64 reference on a prompt
# from samples/qa (samples/model/reference.safetensors, made by tools/train/make_reference.py).
# QA: the CPU engine answers the magic-number questions of samples/qa exactly (expected.jsonl).
# Summary: `longjam summarize` output is extractive (tests/sample_model_summary.sh).
set(_sm ${CMAKE_SOURCE_DIR}/samples/model)
if(EXISTS ${_sm}/model.safetensors AND EXISTS ${_sm}/reference.safetensors)
  add_test(NAME sample_model_parity COMMAND engine_parity ${_sm} 2)
  set_tests_properties(sample_model_parity PROPERTIES SKIP_RETURN_CODE 77)
endif()
if(EXISTS ${_sm}/model.safetensors)
  add_test(NAME sample_model_qa COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sample_model_qa.sh ${LJ_LONGJAM}
           ${_sm} ${CMAKE_SOURCE_DIR}/samples/qa signal-magic krb5-magic pack-magic-1 pack-magic-2 pack-magic-3)
  set_tests_properties(sample_model_qa PROPERTIES LABELS slow SKIP_RETURN_CODE 77)
  add_test(NAME sample_model_summary COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sample_model_summary.sh ${LJ_LONGJAM}
           ${_sm} ${CMAKE_SOURCE_DIR}/samples/docs)
  set_tests_properties(sample_model_summary PROPERTIES LABELS slow SKIP_RETURN_CODE 77)
endif()
