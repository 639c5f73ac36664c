use leptos::prelude::*;

/// A labelled progress bar.
#[component]
pub fn ProgressBar(
    /// Finished units.
    #[prop(into)]
    done: Signal<u32>,
    /// All units.
    #[prop(into)]
    total: Signal<u32>,
    /// Accessible name.
    #[prop(into)]
    label: String,
) -> impl IntoView {
    let fraction = move || {
        let t = total.get();
        if t == 0 {
            0.0
        } else {
            (done.get() as f64 / t as f64).min(1.0)
        }
    };
    view! {
        <div
            class="fa-progress"
            role="progressbar"
            aria-label=label
            aria-valuemin="0"
            aria-valuemax=move || total.get().to_string()
            aria-valuenow=move || done.get().to_string()
            data-testid="progress"
        >
            // Scaled, not resized: a transform is only composited, a width change
            // lays the page out again.
            <div class="fa-progress__fill" style:transform=move || format!("scaleX({:.4})", fraction())></div>
        </div>
    }
}
