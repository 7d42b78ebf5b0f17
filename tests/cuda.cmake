# CUDA backend tests (kernels/cuda). Built whenever the CUDA library is; on a machine without a
# GPU each test prints why and returns 77 (skipped).
if(TARGET lj_kernels_cuda)
  lj_test_program(test_cuda_ops SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cuda/test_cuda_ops.c LIBS lj_kernels_cuda ${MATH_LIB})
  add_test(NAME cuda_ops COMMAND test_cuda_ops)
  set_tests_properties(cuda_ops PROPERTIES SKIP_RETURN_CODE 77 LABELS cuda)

  # Model parity through the engine with --device cuda: shared fixtures and the engine's
  # generality fixtures (odd GQA, projection biases, F16, all-attention, ...).
  lj_test_program(test_cuda_model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cuda/test_cuda_model.c
                  ${CMAKE_CURRENT_SOURCE_DIR}/engine_ref.c LIBS lj_engine lj_kernels_cuda)
  file(GLOB _cuda_gfx LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/g-*)
  foreach(dir ${LJ_FIXTURES}/models/tiny-fp32 ${LJ_FIXTURES}/models/tiny-bf16 ${LJ_FIXTURES}/models/tiny-chat ${_cuda_gfx})
    get_filename_component(fx ${dir} NAME)
    add_test(NAME cuda_model_${fx} COMMAND test_cuda_model ${dir} fp32)
    add_test(NAME cuda_model_bf16_${fx} COMMAND test_cuda_model ${dir} bf16)
    set_tests_properties(cuda_model_${fx} cuda_model_bf16_${fx} PROPERTIES SKIP_RETURN_CODE 77 LABELS cuda)
  endforeach()

  # Tensor parallel on the CUDA backend in its fp32 mode (tests/tp_parity.c with the backend linked
  # in): ranks through host copies (several ranks may share one GPU), and through NCCL (one GPU per
  # rank: skipped with fewer GPUs than ranks).
  lj_test_program(tp_parity_cuda SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tp_parity.c ${CMAKE_CURRENT_SOURCE_DIR}/engine_ref.c
                  LIBS lj_engine lj_kernels_cuda)
  add_test(NAME cuda_tp_parity_tiny-fp32 COMMAND tp_parity_cuda ${LJ_FIXTURES}/models/tiny-fp32 2 4)
  add_test(NAME cuda_tp_parity_nccl_tiny-fp32 COMMAND tp_parity_cuda ${LJ_FIXTURES}/models/tiny-fp32 2)
  set_tests_properties(cuda_tp_parity_tiny-fp32 cuda_tp_parity_nccl_tiny-fp32 PROPERTIES
                       SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS cuda)
  set_tests_properties(cuda_tp_parity_tiny-fp32 PROPERTIES
                       ENVIRONMENT "TP_PARITY_DEVICE=cuda;LONGJAM_CUDA_PRECISION=fp32")
  set_tests_properties(cuda_tp_parity_nccl_tiny-fp32 PROPERTIES
                       ENVIRONMENT "TP_PARITY_DEVICE=cuda;LONGJAM_CUDA_PRECISION=fp32;LONGJAM_COMM=nccl")
endif()

# kernels/cuda/wgmma_gen.cuh is generated (long inline-PTX operand lists): it must be what
# tools/gen_wgmma.py writes now. Runs without nvcc or a GPU.
add_test(NAME cuda_wgmma_gen_current
         COMMAND sh -c "python3 '${CMAKE_SOURCE_DIR}/tools/gen_wgmma.py' | cmp - '${CMAKE_SOURCE_DIR}/kernels/cuda/wgmma_gen.cuh'")
