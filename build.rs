//! Rebuilds the binary whenever the built-in theme changes: `include_dir!` embeds
//! `themes/default/`, but cargo does not notice files added to it without this.

fn main() {
    println!("cargo:rerun-if-changed=themes/default");
}
