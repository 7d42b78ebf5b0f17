# bench/ tools that run without a GPU: the per-op ratio table on saved H100 outputs.
add_test(NAME bench_ratios COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/bench_ratios.sh)
