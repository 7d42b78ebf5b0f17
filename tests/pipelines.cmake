# Pipelines: unit tests (sampler, shards, queue, scheduler on the toy backend), engine-level tests on
# tiny-chat (batching and fork invariance), and end-to-end CLI tests (fields, malformed lines,
# kill/resume, shards + merge, Slurm job array), each on the toy backend and on tiny-chat.
lj_test_program(pipelines_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/pipelines/pipelines_unit.c LIBS lj_pipelines)
add_test(NAME pipelines_unit COMMAND pipelines_unit)

lj_test_program(pipelines_engine SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/pipelines/pipelines_engine.c LIBS lj_pipelines)
add_test(NAME pipelines_engine COMMAND pipelines_engine ${LJ_FIXTURES}/models/tiny-chat)
set_tests_properties(pipelines_engine PROPERTIES SKIP_RETURN_CODE 77)

foreach(m toy tiny-chat)
  if(m STREQUAL "toy")
    set(_model toy)
  else()
    set(_model ${LJ_FIXTURES}/models/tiny-chat)
  endif()
  foreach(t e2e kill_resume shards)
    add_test(NAME pipelines_${t}_${m} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/pipelines/${t}.sh ${LJ_LONGJAM} ${_model})
    set_tests_properties(pipelines_${t}_${m} PROPERTIES SKIP_RETURN_CODE 77 ENVIRONMENT "LJ_FIXTURES=${LJ_FIXTURES}")
  endforeach()
endforeach()
set_tests_properties(pipelines_kill_resume_tiny-chat PROPERTIES LABELS slow)

# Data parallel: replicas give one replica's output, and survive kill + resume.
add_test(NAME pipelines_replicas COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/pipelines/replicas.sh ${LJ_LONGJAM}
         ${CMAKE_SOURCE_DIR})
add_test(NAME pipelines_kill_resume_toy_replicas COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/pipelines/kill_resume.sh
         ${LJ_LONGJAM} toy "--replicas 3")

add_test(NAME pipelines_slurm COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/pipelines/slurm.sh ${LJ_LONGJAM}
         ${CMAKE_SOURCE_DIR}/samples/slurm/longjam-array.sh ${LONGJAM_SHARED_DIR}/tools/slurm-local)
set_tests_properties(pipelines_slurm PROPERTIES SKIP_RETURN_CODE 77 LABELS slow RUN_SERIAL TRUE)
set_tests_properties(pipelines_replicas PROPERTIES LABELS slow)
