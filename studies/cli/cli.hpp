#pragma once
// The attnrate command line: parses, calls the library, writes. Exit codes (README):
//   0    success: every judged claim consistent (verify), quantities measured (study), the slope
//        consistent with --theory or not judged (rate), done
//   1    some claim (or rate's slope) not consistent, or no verdict / no measurement could be formed
//   2    bad input: options, data, config or claims files (message names the option or file:line)
//   3    a run failed: I/O, out of memory, internal error
//   130  interrupted by SIGINT, 143 by SIGTERM: study and verify save their finished cells (rerun
//        with --resume); simulate, fit, predict and score stop at once, no output half written
namespace attnrate {
int run_cli(int argc, char** argv);
}
