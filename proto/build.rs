//! Generates the `daas.v1` protobuf types with prost (needs `protoc` on PATH;
//! `scripts/stack up` installs Debian's `protobuf-compiler`).

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=daas/v1/log.proto");
    prost_build::Config::new().compile_protos(&["daas/v1/log.proto"], &["."])
}
