//! Rebuilds the binary whenever the built-in theme changes: `include_dir!` embeds
//! `themes/default/`, but cargo does not notice files added to it without this.
//!
//! Also sets `cfg(jpeg_simd)` when mozjpeg-sys was built with libjpeg-turbo's SIMD code (it
//! needs `nasm` at build time, and quietly builds without it): only then is it faster than
//! jpeg-encoder, so `src/media/encode.rs` uses it only then.

fn main() {
    println!("cargo:rerun-if-changed=themes/default");
    println!("cargo:rustc-check-cfg=cfg(jpeg_simd)");
    // mozjpeg-sys (`links = "jpeg"`) passes its include folders; the jconfig.h it generated
    // says whether the SIMD code went in.
    let simd = std::env::var_os("DEP_JPEG_INCLUDE").is_some_and(|dirs| {
        std::env::split_paths(&dirs).any(|dir| {
            std::fs::read_to_string(dir.join("jconfig.h"))
                .is_ok_and(|h| h.lines().any(|l| l.trim() == "#define WITH_SIMD 1"))
        })
    });
    if simd {
        println!("cargo:rustc-cfg=jpeg_simd");
    } else {
        // Cargo hides mozjpeg-sys's own warning (it is not a local package).
        println!(
            "cargo:warning=nasm was not found when mozjpeg-sys was built: JPEG encoding uses \
             jpeg-encoder, 3.4x slower than libjpeg-turbo's SIMD code. To fix: build with \
             tools/cargo (it fetches nasm without root), or apt-get install nasm && cargo clean \
             -p mozjpeg-sys"
        );
    }
}
