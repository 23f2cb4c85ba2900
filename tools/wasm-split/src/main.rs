//! `herald-wasm-split INPUT.wasm PKG_DIR MAIN_OUT.wasm`: splits the WebAssembly that cargo built
//! at its `#[lazy]` functions, as `cargo leptos build --split` does. Writes the main module to
//! MAIN_OUT (for wasm-bindgen), one `.wasm` file per lazily loaded part into PKG_DIR, the loader
//! `__wasm_split.______________________.js` (the name Leptos' `HydrationScripts` expects) and
//! `__wasm_split_manifest.json` (which parts each lazy function needs, for preloading).

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, pkg, main_out] = args.as_slice() else {
        eprintln!("usage: herald-wasm-split INPUT.wasm PKG_DIR MAIN_OUT.wasm");
        std::process::exit(2);
    };
    if let Err(e) = split(Path::new(input), Path::new(pkg), Path::new(main_out)) {
        eprintln!("herald-wasm-split: {e:?}");
        std::process::exit(1);
    }
}

fn split(input: &Path, pkg: &Path, main_out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let wasm = std::fs::read(input)?;
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = pkg;
    options.main_out_path = main_out;
    // The module wasm-bindgen writes (`--out-name herald`), which the loader imports
    // `initSync` from.
    options.main_module = "./herald.js";
    options.link_name = "./__wasm_split.______________________.js";
    let split = wasm_split_cli_support::transform(options).map_err(|e| format!("{e:?}"))?;
    std::fs::write(
        pkg.join("__wasm_split_manifest.json"),
        serde_json::to_string_pretty(&split.prefetch_map)?,
    )?;
    for module in &split.split_modules {
        println!("{}", module.display());
    }
    Ok(())
}
