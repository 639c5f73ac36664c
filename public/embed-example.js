// The host page's side of the embedding: hand rows in, read annotations back,
// and react to the app's events.
const counts = new Map();

function show() {
  document.getElementById('event-counts').replaceChildren(
    ...[...counts].map(([type, n]) => {
      const li = document.createElement('li');
      li.textContent = `${type}: ${n}`;
      li.dataset.event = type;
      li.dataset.count = String(n);
      return li;
    }),
  );
}

for (const type of ['fannotate:annotation', 'fannotate:run-progress', 'fannotate:run-finished', 'fannotate:error']) {
  document.addEventListener(type, (ev) => {
    counts.set(type, (counts.get(type) ?? 0) + 1);
    document.getElementById('last-event').textContent = `${type} from #${ev.target.closest?.('fannotate-app')?.id ?? ev.target.id}\n${JSON.stringify(ev.detail, null, 2)}`;
    show();
  });
}

const teamA = () => document.getElementById('team-a');

document.getElementById('send-rows').addEventListener('click', async () => {
  const rows = [
    { ticket: 'T-1', body: 'Subject: Cheap meds!!! Buy now, limited offer', channel: 'email' },
    { ticket: 'T-2', body: 'Subject: Re: meeting notes from Tuesday', channel: 'email' },
    { ticket: 'T-3', body: 'Subject: You have WON a prize, click here', channel: 'web' },
  ];
  // The project id is the handle for openProject() and later loads (replace: true).
  const project = await teamA().loadRows(rows, { textField: 'body', idField: 'ticket', name: 'Tickets from the host' });
  document.getElementById('exported').textContent = `loaded ${rows.length} rows`;
  document.getElementById('exported').dataset.project = project;
});

document.getElementById('export').addEventListener('click', async () => {
  const rows = await teamA().exportAnnotations();
  document.getElementById('exported').textContent = JSON.stringify(rows, null, 2);
});
