fn main() -> std::process::ExitCode {
    dfbs_vo::cli::main()
}
