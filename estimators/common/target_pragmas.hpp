#pragma once
// ATTNRATE_TARGET_BEGIN("avx") ... ATTNRATE_TARGET_END: every function defined between them is
// compiled for that instruction set, for kernels written once over a vector type and compiled
// once per width, each in a namespace of its own, the width chosen at run time. GCC's target
// pragma, or clang's attribute pragma (clang ignores the GCC one, which would leave the wider
// namespaces compiled for the baseline and calling their vector functions with the wrong calling
// convention). Include in a .cpp only.

#define ATTNRATE_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define ATTNRATE_TARGET_BEGIN(ISA) ATTNRATE_PRAGMA(clang attribute push(__attribute__((target(ISA))), apply_to = function))
#define ATTNRATE_TARGET_END ATTNRATE_PRAGMA(clang attribute pop)
#else
#define ATTNRATE_TARGET_BEGIN(ISA) ATTNRATE_PRAGMA(GCC push_options) ATTNRATE_PRAGMA(GCC target(ISA))
#define ATTNRATE_TARGET_END ATTNRATE_PRAGMA(GCC pop_options)
#endif
