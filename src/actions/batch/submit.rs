//! Submitted batches: where they are, and their output once they end.

use super::*;

/// Ask where each of the run's unsettled batches is; import the output (and
/// error) files of those that ended, in one import.
pub(super) async fn poll(
    state: AppState,
    run: RunRecord,
) -> Result<Option<ImportReport>, AppError> {
    let Some(mut st) = stored(state, &run).await? else {
        return Ok(None);
    };
    let Some(batch) = st.run.batch.clone() else {
        return Ok(None);
    };
    let key = run_key(state, &st.run).await?;
    let endpoint = st.run.endpoint.clone();
    let api = BatchApi::new(&endpoint, &key, batch.engine);
    let mut files: Vec<(String, web_sys::Blob)> = Vec::new();
    let mut ended: Vec<String> = Vec::new();
    let mut remote = batch.remote.clone();
    for r in remote.iter_mut().filter(|r| !r.settled) {
        r.polls += 1;
        let remote_state = api.status(&r.id).await?;
        r.status = state_word(&remote_state);
        match remote_state {
            RemoteState::Working(_) => {}
            RemoteState::Failed(why) => {
                r.settled = true;
                state.toast(
                    ToastKind::Error,
                    format!("The engine failed batch {}: {why}", r.id),
                );
                r.error = Some(why);
            }
            RemoteState::Ended {
                output_file_id,
                error_file_id,
                results_url,
                ..
            } => {
                let out = api
                    .output(&r.id, output_file_id.as_deref(), results_url.as_deref())
                    .await?;
                files.push((format!("{}-output.jsonl", r.id), text_blob(&out, JSONL)?));
                if let Some(err_id) = error_file_id.as_deref() {
                    let errors = api.output(&r.id, Some(err_id), None).await?;
                    files.push((format!("{}-errors.jsonl", r.id), text_blob(&errors, JSONL)?));
                }
                r.settled = true;
                ended.push(r.id.clone());
            }
        }
    }
    if let Some(b) = st.run.batch.as_mut() {
        b.remote = remote;
    }
    if files.is_empty() {
        state.storage().put_run(st.run).await?;
        return Ok(None);
    }
    // An empty file (no failed request) is no output to read.
    let files = files.into_iter().filter(|(_, b)| b.size() > 0.0).collect();
    st.run.status = RunStatus::WaitingForBatch;
    import(state, st, files, Some(ended.join(",")))
        .await
        .map(Some)
}
