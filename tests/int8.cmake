# ExpertsInt8 and the memory plan: quantisation unit tests and the CPU int8 ops, int8 parity
# against the shared fixtures, planner numbers (fixture config and Jamba-1.5-Mini at 256K) and
# refusals, the info CLI.
lj_test_program(int8_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/int8_unit.c LIBS lj_engine)
add_test(NAME int8_unit COMMAND int8_unit)

lj_test_program(int8_parity SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/int8_parity.c ${CMAKE_CURRENT_SOURCE_DIR}/engine_ref.c
                LIBS lj_engine)
foreach(fx tiny-fp32 tiny-bf16 tiny-chat)
  add_test(NAME int8_parity_${fx} COMMAND int8_parity ${LJ_FIXTURES}/models/${fx}
           ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/int8/${fx}.safetensors)
  set_tests_properties(int8_parity_${fx} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()

lj_test_program(int8_plan SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/int8_plan.c LIBS lj_engine)
add_test(NAME int8_plan COMMAND int8_plan ${LJ_FIXTURES}/models/tiny-fp32)

add_test(NAME int8_info_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/int8_info.sh ${LJ_LONGJAM})

# The W8A16 grouped GEMM through the CUDA MoE op vs the CPU reference (skips without a GPU).
# lj_engine no longer carries CUDA (the backend is a plugin): link the backend's objects here.
if(TARGET lj_kernels_cuda)
  lj_test_program(int8_cuda SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/int8_cuda.c LIBS lj_engine lj_kernels_cuda)
else()
  lj_test_program(int8_cuda SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/int8_cuda.c LIBS lj_engine)
endif()
add_test(NAME int8_cuda COMMAND int8_cuda)
set_tests_properties(int8_cuda PROPERTIES SKIP_RETURN_CODE 77 LABELS cuda)
