# Sample model (samples/model, made by tools/train-sample-model): registered only once the trained
# weights are in the tree. Parity: the engine against transformers' float64 reference on a prompt
# from samples/qa (samples/model/reference.safetensors, made by tools/train/make_reference.py).
# QA: the CPU engine answers the single-needle questions of samples/qa exactly (expected.jsonl).
set(_sm ${CMAKE_SOURCE_DIR}/samples/model)
if(EXISTS ${_sm}/model.safetensors AND EXISTS ${_sm}/reference.safetensors)
  add_test(NAME sample_model_parity COMMAND engine_parity ${_sm} 2)
  set_tests_properties(sample_model_parity PROPERTIES SKIP_RETURN_CODE 77)
endif()
if(EXISTS ${_sm}/model.safetensors)
  add_test(NAME sample_model_qa COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sample_model_qa.sh ${LJ_LONGJAM}
           ${_sm} ${CMAKE_SOURCE_DIR}/samples/qa signal-magic krb5-magic)
  set_tests_properties(sample_model_qa PROPERTIES LABELS slow SKIP_RETURN_CODE 77)
endif()
