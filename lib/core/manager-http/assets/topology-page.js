// The topology page's script: reads /socket-mesh/events (Server-Sent Events) with fetch, so a
// bearer token can travel in a header (EventSource cannot send one), and redraws the tables
// on every 'topology' event. No framework, no build step.
(function () {
  'use strict';
  var token = new URLSearchParams(location.hash.slice(1)).get('token');
  var statusEl = document.getElementById('status');
  var updatedEl = document.getElementById('updated');
  var retryMs = 500;

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function fill(tableId, rows, columns, emptyText) {
    var body = document.querySelector('#' + tableId + ' tbody');
    body.textContent = '';
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      cell(tr, emptyText, 'empty').colSpan = columns;
      body.appendChild(tr);
      return;
    }
    rows.forEach(function (values) {
      var tr = document.createElement('tr');
      values.forEach(function (v) {
        // A value may be [text, className].
        if (Array.isArray(v)) cell(tr, v[0], v[1]);
        else cell(tr, v);
      });
      body.appendChild(tr);
    });
  }

  function list(value) {
    if (value === 'anyNode') return 'anyNode';
    return value.length ? value.join(', ') : '—';
  }

  function since(iso) {
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    var ago = s < 60 ? s + ' s' : s < 3600 ? Math.floor(s / 60) + ' min' : Math.floor(s / 3600) + ' h';
    return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') + ' (' + ago + ' ago)';
  }

  var lastView;

  function render(view) {
    lastView = view;
    fill(
      'workers',
      view.workers.map(function (w) {
        return [w.name, String(w.instances), list(w.allow), list(w.connect), w.commands.join(', ') || '—'];
      }),
      5,
      'no worker registered',
    );
    fill(
      'instances',
      view.instances.map(function (i) {
        var host = i.host.indexOf(':') >= 0 ? '[' + i.host + ']' : i.host;
        return [i.worker, i.variant, host + ':' + i.port, since(i.registeredAt)];
      }),
      4,
      'no instance registered',
    );
    fill(
      'links',
      view.links.map(function (l) {
        return [l.from, '→', l.to];
      }),
      3,
      'no worker may call another',
    );
    var reported = view.reportedLinks || []; // an older manager sends none
    fill(
      'reported',
      reported.map(function (l) {
        return [l.from, l.fromVariant, '→', l.to, l.toVariant, [l.state, 'state-' + l.state]];
      }),
      6,
      'no live link reported',
    );
    document.body.dataset.reportedLinks = String(reported.length);
    updatedEl.textContent = 'updated ' + new Date(view.at).toLocaleTimeString();
    document.body.dataset.instances = String(view.instances.length);
  }

  // One SSE message: 'event:' and 'data:' lines; comments (':') are heartbeats.
  function dispatch(message) {
    var event = 'message';
    var data = [];
    message.split('\n').forEach(function (line) {
      if (line.indexOf('event:') === 0) event = line.slice(6).trim();
      else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
    });
    if (event === 'topology' && data.length) render(JSON.parse(data.join('\n')));
  }

  function connect() {
    var headers = token ? { authorization: 'Bearer ' + token } : {};
    fetch('events', { headers: headers, cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401) throw new Error('unauthorized: open the page as …/ui#token=<token>');
        if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
        setStatus('live', 'live');
        retryMs = 500;
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buffer = '';
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) throw new Error('the manager closed the stream');
            buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
            var end;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              dispatch(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function (err) {
        setStatus('error', 'disconnected: ' + err.message + ' (retrying)');
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 10000);
      });
  }

  // Keeps the 'since' column current between changes.
  setInterval(function () {
    if (lastView) render(lastView);
  }, 5000);
  connect();
})();
