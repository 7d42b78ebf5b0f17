# The CUDA backend as a plugin: `longjam` links no CUDA library; --device cuda loads
# liblongjam-cuda.so or fails cleanly (no GPU, no plugin, wrong library, stale ABI).
add_library(lj_fake_plugin MODULE ${CMAKE_CURRENT_SOURCE_DIR}/plugin/fake_plugin.c)
if(TARGET longjam-cuda)
  set(_cuda_built 1)
else()
  set(_cuda_built 0)
endif()
add_test(NAME plugin_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/plugin/plugin_cli.sh ${LJ_LONGJAM} ${_cuda_built}
         $<TARGET_FILE:lj_fake_plugin> ${LJ_FIXTURES}/models/tiny-fp32)
