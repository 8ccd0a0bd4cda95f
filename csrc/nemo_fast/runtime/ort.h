// The one place that includes the ONNX Runtime C++ API, always with manual API initialization
// (see onnxruntime_loader.h).
#pragma once

#ifndef ORT_API_MANUAL_INIT
#define ORT_API_MANUAL_INIT
#endif
#include <onnxruntime_cxx_api.h>
