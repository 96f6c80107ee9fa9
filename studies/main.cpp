#include "studies/cli.hpp"

int main(int argc, char** argv) { return attnrate::run_cli(argc, argv); }
