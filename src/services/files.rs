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

/// A download made as it goes: each piece is copied out of wasm memory as it
/// is pushed, so a file of hundreds of megabytes never sits in wasm at once.
#[derive(Default)]
pub struct BlobFile {
    parts: js_sys::Array,
}

impl BlobFile {
    /// An empty file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append `piece`.
    pub fn push(&mut self, piece: &[u8]) {
        if !piece.is_empty() {
            self.parts.push(&js_sys::Uint8Array::from(piece));
        }
    }

    /// The file as a Blob (its bytes stay in the browser, out of wasm).
    pub fn into_blob(self, mime: &str) -> Result<web_sys::Blob, FileError> {
        make_blob(mime, &self.parts).map_err(FileError::Download)
    }
}

/// Offer a Blob as a download named `name`.
pub fn offer_blob(name: &str, blob: &web_sys::Blob) -> Result<(), FileError> {
    offer_url(name, blob).map_err(FileError::Download)
}

/// Reads a file (or any Blob) a slice at a time, so a file larger than wasm
/// memory can be read line by line.
pub struct FileSlices {
    file: web_sys::Blob,
    offset: f64,
    size: f64,
}

impl FileSlices {
    /// Bytes per slice.
    const SLICE: f64 = 8.0 * 1024.0 * 1024.0;

    /// Slices of `file`, from its start.
    pub fn new(file: web_sys::Blob) -> Self {
        let size = file.size();
        FileSlices {
            file,
            offset: 0.0,
            size,
        }
    }

    /// The next slice, or `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, FileError>> {
        if self.offset >= self.size {
            return None;
        }
        let end = (self.offset + Self::SLICE).min(self.size);
        let read = async {
            let blob = self
                .file
                .slice_with_f64_and_f64(self.offset, end)
                .map_err(|e| FileError::Read(js_message(&e)))?;
            let buf = JsFuture::from(blob.array_buffer())
                .await
                .map_err(|e| FileError::Read(js_message(&e)))?;
            Ok(js_sys::Uint8Array::new(&buf).to_vec())
        };
        let out = read.await;
        self.offset = end;
        Some(out)
    }
}

fn offer<P: AsRef<[u8]>>(name: &str, mime: &str, content: &[P]) -> Result<(), String> {
    let parts: js_sys::Array = content
        .iter()
        .map(|p| js_sys::Uint8Array::from(p.as_ref()))
        .collect();
    offer_url(name, &make_blob(mime, &parts)?)
}

fn make_blob(mime: &str, parts: &js_sys::Array) -> Result<web_sys::Blob, String> {
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    web_sys::Blob::new_with_u8_array_sequence_and_options(parts, &opts).map_err(|e| js_message(&e))
}

fn offer_url(name: &str, blob: &web_sys::Blob) -> Result<(), String> {
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(|e| js_message(&e))?;
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
    take_picked_files(ev).into_iter().next()
}

/// Every file picked in a file input's `change` event, in order; the input is
/// cleared as in [`take_picked_file`].
pub fn take_picked_files(ev: &web_sys::Event) -> Vec<web_sys::File> {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let files = input.files();
    let out = (0..files.as_ref().map_or(0, |f| f.length()))
        .filter_map(|i| files.as_ref()?.get(i))
        .collect();
    input.set_value("");
    out
}

/// Text as a Blob (an output file fetched from a batch API, read like a picked one).
pub fn text_blob(text: &str, mime: &str) -> Result<web_sys::Blob, FileError> {
    // The Blob constructor takes strings among its parts as well as bytes.
    make_blob(mime, &js_sys::Array::of1(&JsValue::from_str(text))).map_err(FileError::Read)
}
