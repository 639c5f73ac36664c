//! A read's three states, drawn the same way everywhere: a muted line while
//! it loads, its error's user message as an alert, or what it loaded.

use crate::error::Explain;
use leptos::prelude::*;

/// Draw `resource` (a `LocalResource`, or a memo of one's value): `loading` while it loads, the error's user message if it
/// failed, else `ok` of its value.
pub fn when_loaded<T, E, V>(
    resource: impl Get<Value = Option<Result<T, E>>> + Send + Sync + 'static,
    loading: &'static str,
    ok: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: 'static,
    E: Explain + Clone + 'static,
    V: IntoView + 'static,
{
    move || match resource.get() {
        None => view! { <p class="fa-muted">{loading}</p> }.into_any(),
        Some(Err(e)) => {
            view! { <p class="fa-error" role="alert">{e.user_message()}</p> }.into_any()
        }
        Some(Ok(v)) => ok(v).into_any(),
    }
}
