//! Request files: a new batch run's, a leaderboard line's, a waiting run's
//! again or what it still lacks; offered as downloads or submitted.

use super::*;

/// Request bytes gathered in wasm before they are copied into the download.
const PIECE_BYTES: usize = 4 << 20;

/// Write a new run of `attribute` over `scope` as request files, offered as
/// downloads or (`submit`) handed to the endpoint's batch API, and store it as
/// waiting for their answers.
pub(super) async fn export(state: AppState, job: NewBatch) -> Result<(), AppError> {
    let NewBatch {
        setup,
        attribute,
        scope,
        version,
        engine,
        submit,
    } = job;
    let Some(new) = prepare_run(state, setup, attribute, scope, version).await? else {
        return Ok(());
    };
    let mut run = new.run.clone();
    let requests = BatchRequests::new(&new.run.id, &new.run.endpoint, &new.attribute)?;
    requests.check(engine)?;
    let stem = format!("fannotate-batch-{}", run.id);
    let made = write_parts(&requests, engine, new.texts(), |_, _| true, &stem).await?;
    let (parts, remote, failure) = if submit {
        let key = run_key(state, &run).await?;
        let api = BatchApi::new(&run.endpoint, &key, engine);
        let mut remote = Vec::new();
        let mut failure = None;
        for (p, blob) in &made {
            match api.submit(&p.name, blob, &run.id).await {
                Ok(s) => remote.push(RemoteBatch {
                    id: s.id,
                    part: p.name.clone(),
                    input_file_id: s.input_file_id,
                    status: state_word(&s.state),
                    polls: 0,
                    settled: false,
                    error: None,
                }),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        match failure {
            // Nothing went out: no run waits for anything.
            Some(e) if remote.is_empty() => return Err(e.into()),
            f => (made.into_iter().map(|(p, _)| p).collect(), remote, f),
        }
    } else {
        (offer_all(made).await?, Vec::new(), None)
    };
    let lines: u32 = parts.iter().map(|p| p.lines).sum();
    let files = parts.len();
    let sent = remote.len();
    run.status = RunStatus::WaitingForBatch;
    run.batch = Some(BatchRun {
        engine,
        replications: requests.replications(),
        parts,
        imports: Vec::new(),
        partial: Vec::new(),
        remote,
    });
    // Stored once its files are made: a failed export leaves no waiting run.
    state.storage().put_run(run).await?;
    let plural = if files == 1 { "" } else { "s" };
    match (submit, failure) {
        (false, _) => state.toast(
            ToastKind::Success,
            format!("Batch ready: {lines} requests in {files} file{plural}. Run them on your engine, then import its output under Batch runs."),
        ),
        (true, None) => state.toast(
            ToastKind::Success,
            format!("Batch submitted: {lines} requests in {files} file{plural}. Fannotate asks for its status while the Run step is open, and imports the results when it ends."),
        ),
        (true, Some(e)) => state.toast(
            ToastKind::Error,
            format!("{sent} of {files} batch files were submitted; the next one failed: {} Download the request files to submit the rest by hand.", e.user_message()),
        ),
    }
    Ok(())
}

/// Write every row with leaderboard configuration `spec` of experiment `x`
/// (its model, temperature, prompt version…) as request files, and show the
/// waiting run where batch runs are.
pub(super) async fn everything(
    state: AppState,
    x: Experiment,
    spec: CellSpec,
) -> Result<(), AppError> {
    let mut setup = RunSetup::load(state.storage(), x.project_id.clone()).await?;
    let endpoint = state.project_endpoint(x.project_id.clone()).await?;
    setup.endpoint = Some(x.cell_endpoint(&endpoint, &spec));
    let attribute = x.attribute.clone();
    let job = NewBatch {
        setup,
        attribute,
        scope: Scope::All,
        version: Some(spec.version),
        engine: BatchEngine::for_provider(endpoint.provider),
        submit: false,
    };
    export(state, job).await?;
    state.step.set(Step::Run);
    Ok(())
}

/// Make a waiting run's request files again, byte for byte; or, with
/// `missing`, one new set of files of the requests still unanswered.
pub(super) async fn again(state: AppState, run: RunRecord, missing: bool) -> Result<(), AppError> {
    let Some(st) = stored(state, &run).await? else {
        return Ok(());
    };
    let Some(batch) = st.run.batch.clone() else {
        return Ok(());
    };
    let requests = BatchRequests::new(&st.run.id, &st.run.endpoint, &st.attribute)?;
    if !missing {
        let stem = format!("fannotate-batch-{}", st.run.id);
        offer_all(write_parts(&requests, batch.engine, st.texts(), |_, _| true, &stem).await?)
            .await?;
        return Ok(());
    }
    let merger = Merger::new(&st.run, &st.attribute);
    let wanted = st.texts().filter(|(row, _)| !st.done.contains(row));
    let round = batch.parts.len() + 1;
    let stem = format!("fannotate-batch-{}-missing-{round}", st.run.id);
    let parts = offer_all(
        write_parts(
            &requests,
            batch.engine,
            wanted,
            |row, k| merger.missing(row).contains(&k),
            &stem,
        )
        .await?,
    )
    .await?;
    if parts.is_empty() {
        state.toast(ToastKind::Success, "Every request of the run is answered.");
        return Ok(());
    }
    let lines: u32 = parts.iter().map(|p| p.lines).sum();
    let mut run = st.run.clone();
    if let Some(b) = run.batch.as_mut() {
        b.parts.extend(parts);
    }
    state.storage().put_run(run).await?;
    state.toast(
        ToastKind::Success,
        format!("A batch of the {lines} requests still unanswered is ready."),
    );
    Ok(())
}

/// Write the request lines of `rows` (position and text; the replications
/// `keep(row, k)` lets through) as files of at most 50,000 lines and 200 MB named `STEM-N.jsonl`;
/// a row's replications share a file. The bytes go to the browser as they are
/// made: each file comes back as a Blob.
async fn write_parts(
    requests: &BatchRequests<'_>,
    engine: BatchEngine,
    rows: impl IntoIterator<Item = (u32, &str)>,
    keep: impl Fn(u32, u32) -> bool,
    stem: &str,
) -> Result<Vec<(BatchPart, web_sys::Blob)>, AppError> {
    let mut splitter = Splitter::new(SplitLimits::default());
    let mut parts: Vec<(BatchPart, web_sys::Blob)> = Vec::new();
    let mut current: Option<BatchPart> = None;
    let mut file = BlobFile::new();
    let mut piece: Vec<u8> = Vec::with_capacity(PIECE_BYTES + (64 << 10));
    let mut slice = TimeSlice::new(SLICE_MS);
    for (i, (row, text)) in rows.into_iter().enumerate() {
        let lines = requests.row_lines(engine, row, text, |k| keep(row, k));
        if lines.is_empty() {
            continue;
        }
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        if splitter.place_lines(lines.len(), bytes)?.starts_part {
            if let Some(done) = current.take() {
                file.push(&piece);
                piece.clear();
                parts.push((done, std::mem::take(&mut file).into_blob(JSONL)?));
            }
            current = Some(BatchPart {
                name: format!("{stem}-{}.jsonl", parts.len() + 1),
                first_task: i as u32,
                tasks: 0,
                lines: 0,
                bytes: 0,
            });
        }
        if let Some(p) = current.as_mut() {
            p.tasks += 1;
            p.lines += lines.len() as u32;
            p.bytes += bytes as u64;
        }
        for line in lines {
            piece.extend_from_slice(line.as_bytes());
            piece.push(b'\n');
        }
        if piece.len() >= PIECE_BYTES {
            file.push(&piece);
            piece.clear();
        }
        slice.pause_if_due().await;
    }
    if let Some(last) = current {
        file.push(&piece);
        parts.push((last, file.into_blob(JSONL)?));
    }
    Ok(parts)
}

/// Between two downloads: Chromium drops all but the first ten of downloads
/// started back to back (or 50 ms apart); 100 ms apart all twenty of a
/// million-row batch arrive.
const DOWNLOAD_GAP_MS: f64 = 250.0;

/// Offer every file as a download, one after another, and keep their descriptions.
async fn offer_all(parts: Vec<(BatchPart, web_sys::Blob)>) -> Result<Vec<BatchPart>, AppError> {
    let mut out = Vec::with_capacity(parts.len());
    for (i, (p, blob)) in parts.into_iter().enumerate() {
        if i > 0 {
            sleep(DOWNLOAD_GAP_MS).await;
        }
        offer_blob(&p.name, &blob)?;
        out.push(p);
    }
    Ok(out)
}
