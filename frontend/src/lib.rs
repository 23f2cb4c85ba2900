#![recursion_limit = "256"]
//! The hydrate entry point, compiled to WebAssembly and loaded by every server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes: the page's part of the bundle loads before the page hydrates.
    leptos::mount::hydrate_lazy(app::App);
}
