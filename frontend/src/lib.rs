#![recursion_limit = "256"]
//! The hydrate entry point, compiled to WebAssembly and loaded by every server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
