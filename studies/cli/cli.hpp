#pragma once
// The attnrate command line (SPEC §5). Returns the process exit code: 0 success (and every
// claim consistent), 1 a claim not consistent or a run-time failure, 2 usage or input errors.
namespace attnrate {
int run_cli(int argc, char** argv);
}
