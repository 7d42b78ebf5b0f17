# Tensor + expert parallel on the CPU (issue 10): the communicator, and the fixtures split over
# 2 and 4 ranks against the single-rank engine and their references.
lj_test_program(tp_comm SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tp_comm.c LIBS lj_kernels lj_common Threads::Threads)
add_test(NAME tp_comm COMMAND tp_comm)
set_tests_properties(tp_comm PROPERTIES TIMEOUT 60)

lj_test_program(tp_parity SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tp_parity.c ${CMAKE_CURRENT_SOURCE_DIR}/engine_ref.c
                LIBS lj_engine)
foreach(fx tiny-fp32 tiny-bf16 tiny-chat)
  add_test(NAME tp_parity_${fx} COMMAND tp_parity ${LJ_FIXTURES}/models/${fx} 2 4)
endforeach()
# all-attention MoE with 8/2 heads (4 ranks share a KV head); tied embeddings + Mamba biases +
# dense MLPs + 2/1 heads over 2 ranks
add_test(NAME tp_parity_g-all-attention COMMAND tp_parity ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/g-all-attention 2 4)
add_test(NAME tp_parity_g-tied-bias COMMAND tp_parity ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/g-tied-bias 2)
set_tests_properties(tp_parity_tiny-fp32 tp_parity_tiny-bf16 tp_parity_tiny-chat tp_parity_g-all-attention
                     tp_parity_g-tied-bias PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)

