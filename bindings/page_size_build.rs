//! Links the native library (and binaries) for large memory pages on Android and ARM Linux.
//!
//! Google Play requires the native libraries of apps targeting Android 15+ to load on devices with
//! 16 KB pages: every `PT_LOAD` segment must be aligned to at least 16 KB, which the NDK's linker
//! only does by default from NDK r28. Setting it here (not in `RUSTFLAGS`) keeps every dependency's
//! cached build valid. `budget.toml`'s `min_page_align` checks the result.
//!
//! - Android (every ABI) and 32-bit ARM Linux: 16 KB (GNU ld and older NDKs default to 4 KB).
//! - aarch64 Linux (Raspberry Pi 3–5): 64 KB, GNU ld's and lld's own default there, made explicit
//!   so that a toolchain with a smaller default cannot lower it; it serves 4, 16 (Pi 5 kernel) and
//!   64 KB page kernels alike. 16 KB here would break the libraries on 64 KB page kernels.
//!
//! With `LEDGE_LINK_MAP=<folder>` set, the linker also writes a map of the final link to
//! `<folder>/<package>-<target>.map`: every function's section and size after `--gc-sections`,
//! which `scripts/size-report.sh` attributes to crates (the dist builds are stripped, so `nm`
//! cannot). Only the final link changes: no dependency is rebuilt.

fn main() {
    // Relative to the package (bindings/<crate>/); a missing path would rerun it on every build,
    // recompiling and relinking the crate each time.
    println!("cargo:rerun-if-changed=../page_size_build.rs");
    println!("cargo:rerun-if-env-changed=LEDGE_LINK_MAP");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let max_page_size = match (os.as_str(), arch.as_str()) {
        ("android", _) | ("linux", "arm") => Some(16384),
        ("linux", "aarch64") => Some(65536),
        _ => None,
    };
    if let Some(size) = max_page_size {
        println!("cargo:rustc-link-arg=-Wl,-z,max-page-size={size}");
    }
    // GNU ld and lld spell it -Map (ELF targets only; Apple's ld64 has -map).
    let elf = matches!(os.as_str(), "linux" | "android");
    if let (Some(dir), true) = (std::env::var_os("LEDGE_LINK_MAP"), elf) {
        let package = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
        let target = std::env::var("TARGET").unwrap_or_default();
        let map = std::path::Path::new(&dir).join(format!("{package}-{target}.map"));
        println!("cargo:rustc-link-arg=-Wl,-Map={}", map.display());
    }
}
