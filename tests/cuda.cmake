# CUDA backend tests (kernels/cuda). Built whenever the CUDA library is; on a machine without a
# GPU each test prints why and returns 77 (skipped).
if(TARGET lj_kernels_cuda)
  lj_test_program(test_cuda_ops SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cuda/test_cuda_ops.c LIBS lj_kernels_cuda ${MATH_LIB})
  add_test(NAME cuda_ops COMMAND test_cuda_ops)
  set_tests_properties(cuda_ops PROPERTIES SKIP_RETURN_CODE 77 LABELS cuda)
endif()
