//! The compute worker: receives `{id, msg, columns, text}`: a [`ToWorker`] as JSON in `msg`, integer
//! columns and the texts as transferred `ArrayBuffer`s. It runs each with
//! [`fannotate_core::jobs::run`] and answers with [`FromWorker`] JSON. Jobs run
//! one at a time, in the order they come; the page cancels by terminating.

use fannotate_core::jobs::{run, FromWorker, JobError, Payload, ToWorker};
use js_sys::{Array, Reflect, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// Post one message to the page.
fn post(scope: &DedicatedWorkerGlobalScope, msg: &FromWorker) {
    // Serialising these plain enums cannot fail; posting a string cannot either.
    let json = serde_json::to_string(msg).unwrap_or_default();
    let _ = scope.post_message(&JsValue::from_str(&json));
}

/// The message's job and payload.
fn read(data: &JsValue) -> Result<(ToWorker, Payload), JobError> {
    let field = |k: &str| Reflect::get(data, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    let header = field("msg")
        .as_string()
        .ok_or_else(|| JobError::Protocol("no msg".into()))?;
    let to: ToWorker =
        serde_json::from_str(&header).map_err(|e| JobError::Protocol(e.to_string()))?;
    let columns = field("columns")
        .dyn_into::<Array>()
        .map_err(|_| JobError::Protocol("no columns".into()))?
        .iter()
        .map(|buf| Uint32Array::new(&buf).to_vec())
        .collect();
    let text = match field("text") {
        t if t.is_undefined() => Vec::new(),
        t => Uint8Array::new(&t).to_vec(),
    };
    Ok((to, Payload { columns, text }))
}

/// Do one message's job and answer.
fn handle(scope: &DedicatedWorkerGlobalScope, data: JsValue) {
    let id = Reflect::get(&data, &JsValue::from_str("id"))
        .ok()
        .and_then(|v| v.as_f64())
        .map_or(0, |v| v as u32);
    let reply = match read(&data) {
        Err(e) => FromWorker::Failed {
            id,
            message: e.to_string(),
        },
        Ok((to, payload)) => {
            let mut progress = |done, total| {
                post(
                    scope,
                    &FromWorker::Progress {
                        id: to.id,
                        done,
                        total,
                    },
                )
            };
            match run(&to.job, payload, &mut progress, &js_sys::Date::now) {
                Ok(output) => FromWorker::Done { id: to.id, output },
                Err(e) => FromWorker::Failed {
                    id: to.id,
                    message: e.to_string(),
                },
            }
        }
    };
    post(scope, &reply);
}

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let listener = scope.clone();
    let onmessage =
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| handle(&listener, e.data()));
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    // The worker lives as long as its handler.
    onmessage.forget();
    // Messages posted before the handler was set were dispatched to nothing:
    // the page sends its first job only after this.
    post(&scope, &FromWorker::Ready);
}
