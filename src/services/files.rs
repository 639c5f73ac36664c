//! Reading files the user picks and offering files for download.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The message of a JS error (or thrown string), for users.
pub(crate) fn js_message(v: &JsValue) -> String {
    v.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// A file the browser could not read or offer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FileError {
    /// Reading a picked file failed.
    #[error("the browser could not read the file: {0}")]
    Read(String),
    /// Offering a download failed.
    #[error("the browser could not offer the download: {0}")]
    Download(String),
}

/// All bytes of a picked file.
pub async fn read_bytes(file: &web_sys::File) -> Result<Vec<u8>, FileError> {
    let buf = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| FileError::Read(js_message(&e)))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Offer `content` as a file download named `name`.
pub fn download(name: &str, mime: &str, content: &str) -> Result<(), FileError> {
    download_bytes(name, mime, content.as_bytes())
}

/// Offer bytes as a file download named `name`.
pub fn download_bytes(name: &str, mime: &str, content: &[u8]) -> Result<(), FileError> {
    download_parts(name, mime, &[content])
}

/// Offer a file made of `parts`, one after another, as a download (the parts
/// become one Blob; they are never joined in wasm memory).
pub fn download_parts<P: AsRef<[u8]>>(
    name: &str,
    mime: &str,
    parts: &[P],
) -> Result<(), FileError> {
    offer(name, mime, parts).map_err(FileError::Download)
}

fn offer<P: AsRef<[u8]>>(name: &str, mime: &str, content: &[P]) -> Result<(), String> {
    let parts: js_sys::Array = content
        .iter()
        .map(|p| js_sys::Uint8Array::from(p.as_ref()))
        .collect();
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts)
        .map_err(|e| js_message(&e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| js_message(&e))?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| js_message(&e))?
        .unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.style()
        .set_property("display", "none")
        .map_err(|e| js_message(&e))?;
    let body = document.body().ok_or("no body")?;
    body.append_child(&a).map_err(|e| js_message(&e))?;
    a.click();
    a.remove();
    // Revoke later: revoking at once can cancel the download in some browsers.
    let url2 = url.clone();
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url2);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    }
    Ok(())
}

/// The file picked in a file input's `change` event. The input is cleared, so
/// picking the same file again (after fixing it) fires another event.
pub fn take_picked_file(ev: &web_sys::Event) -> Option<web_sys::File> {
    let input: web_sys::HtmlInputElement = ev.target()?.dyn_into().ok()?;
    let file = input.files().and_then(|f| f.get(0));
    input.set_value("");
    file
}
