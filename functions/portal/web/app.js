/* 卫生健康统计报表平台 — the page. Plain ES2017 (Chromium ≥ 60, WPS/360 speed mode), no framework,
   no build. The DOM is built with textContent only: nothing from the server is parsed as HTML. */
(function () {
  'use strict';

  var STATUS = { accepted: '已通过', accepted_with_warnings: '有警告', rejected: '未通过', missing: '未上报', pending: '校验中' };
  var SEV = { error: '错误', warning: '警告', info: '提示' };
  var POLL_MS = 1000;
  var POLL_LIMIT_MS = 120000;

  var state = { me: null, period: null, tab: 'own', deepLink: null, linkPeriod: null, uploads: {}, lastKey: null };

  function $(id) { return document.getElementById(id); }

  /** an element (svg: in the SVG namespace) */
  function h(tag, attrs, children, svg) {
    var el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'text') el.textContent = v;
        else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : v);
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return el;
  }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  /** On a phone a table's rows become cards (style.css): each cell carries its column's name, unless the header is .nolabel. */
  function labelCells(table) {
    var heads = [].map.call(table.tHead.rows[0].cells, function (th) { return /\bnolabel\b/.test(th.className) ? '' : th.textContent; });
    [].forEach.call(table.tBodies[0].rows, function (tr) {
      [].forEach.call(tr.cells, function (td, i) { if (heads[i] && td.colSpan === 1) td.setAttribute('data-label', heads[i]); });
    });
  }

  function qs(params) {
    return Object.keys(params).filter(function (k) { return params[k] !== undefined && params[k] !== null; })
      .map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]); }).join('&');
  }

  /** Beijing time of an ISO instant: 2025-04-02 10:05 */
  function bj(iso) {
    var t = Date.parse(iso);
    if (!isFinite(t)) return '—';
    return new Date(t + 8 * 3600000).toISOString().slice(0, 16).replace('T', ' ');
  }

  function periodText(p) {
    if (/^\d{4}$/.test(p)) return p + '年';
    if (/-Q[1-4]$/.test(p)) return p.slice(0, 4) + '年第' + p.slice(-1) + '季度';
    return p.slice(0, 4) + '年' + Number(p.slice(5, 7)) + '月';
  }
  /** the month whose reporting window shows a period's returns: a quarter's or a year's last month */
  function windowMonth(p) {
    if (/^\d{4}$/.test(p)) return p + '-12';
    var q = /^(\d{4})-Q([1-4])$/.exec(p);
    return q ? q[1] + '-' + ('0' + Number(q[2]) * 3).slice(-2) : p;
  }

  function mb(bytes) { return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + ' MB' : Math.max(1, Math.round(bytes / 1024)) + ' KB'; }

  var toastTimer = null;
  $('toast').addEventListener('click', function () { this.hidden = true; });
  function toast(text, isError) {
    var t = $('toast');
    t.textContent = text;
    t.className = 'toast' + (isError ? ' error' : '');
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, isError ? 8000 : 4000);
  }

  function api(method, path, body) {
    var init = { method: method, credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (res.status === 401 && path !== '/api/login') { showLogin(); }
        if (!res.ok) {
          var err = new Error(data && data.error ? data.error : '请求失败（' + res.status + '）');
          err.status = res.status;
          throw err;
        }
        return data;
      });
    }, function () { throw new Error('网络连接失败，请检查网络后重试'); });
  }

  function chip(status, late) {
    var box = h('span', null, [h('span', { class: 'chip s-' + status, text: STATUS[status] || status })]);
    if (late) box.appendChild(h('span', { class: 'late-tag', text: '逾期', title: late }));
    return box;
  }

  // ---------- sign-in ----------

  function showLogin() {
    state.me = null;
    $('who').hidden = true;
    $('app-view').hidden = true;
    $('login-view').hidden = false;
    $('brand-sub').textContent = '机构月报 · 在线报送与汇总';
    setTimeout(function () { $('login-code').focus(); }, 0);
  }

  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var btn = $('login-submit');
    btn.disabled = true;
    $('login-error').textContent = '';
    api('POST', '/api/login', { code: $('login-code').value.trim(), accessCode: $('login-access').value })
      .then(function (me) { $('login-access').value = ''; start(me); })
      .catch(function (err) { $('login-error').textContent = err.message; })
      .then(function () { btn.disabled = false; });
  });

  $('logout').addEventListener('click', function () {
    api('POST', '/api/logout', {}).catch(function () {}).then(showLogin);
  });

  // ---------- the signed-in page ----------

  function start(me) {
    // the page's own /api/me and a sign-in may both answer: the second must not undo what the user chose since
    if (state.me && state.me.code === me.code && !$('app-view').hidden) return;
    state.me = me;
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = me.name + '（' + me.code + '）';
    $('who-role').textContent = me.role === 'commission' ? '卫健委' : '填报机构';
    $('brand-sub').textContent = me.cityName + ' · ' + me.countyName;
    var sel = clear($('period'));
    me.periods.forEach(function (p) { sel.appendChild(h('option', { value: p, text: periodText(p) })); });
    state.period = me.defaultPeriod;
    var linked = windowMonth(state.deepLink ? state.deepLink.period : state.linkPeriod || '');
    if (linked && me.periods.indexOf(linked) >= 0) state.period = linked;
    sel.value = state.period;
    $('tabs').hidden = me.role !== 'commission';
    state.tab = me.role === 'commission' && !state.deepLink ? 'county' : 'own';
    if (state.deepLink && me.role === 'commission' && state.deepLink.institution !== me.code) state.tab = 'county';
    showTab();
    if (state.deepLink) {
      var d = state.deepLink;
      state.deepLink = null;
      showReport(d);
    }
  }

  function showTab() {
    ['own', 'county', 'defs'].forEach(function (t) {
      $(t + '-view').hidden = state.tab !== t;
      $('tab-' + t).className = 'tab' + (state.tab === t ? ' active' : '');
    });
    load();
  }

  $('tab-own').addEventListener('click', function () { state.tab = 'own'; $('result-card').hidden = true; showTab(); });
  $('tab-county').addEventListener('click', function () { state.tab = 'county'; $('result-card').hidden = true; showTab(); });
  $('tab-defs').addEventListener('click', function () { state.tab = 'defs'; $('result-card').hidden = true; showTab(); });
  $('period').addEventListener('change', function () { state.period = this.value; $('result-card').hidden = true; load(); });
  $('refresh').addEventListener('click', function () { load(); });
  $('result-close').addEventListener('click', function () { $('result-card').hidden = true; });

  function load() {
    var me = state.me;
    if (!me) return Promise.resolve();
    var d = new Date(Date.UTC(Number(state.period.slice(0, 4)), Number(state.period.slice(5, 7)), me.deadlineDay));
    $('deadline').textContent = '报送截止：' + d.getUTCFullYear() + '年' + (d.getUTCMonth() + 1) + '月' + d.getUTCDate() + '日23:59';
    return state.tab === 'own' ? loadOwn() : state.tab === 'defs' ? loadDefinitions() : loadCounty();
  }

  // ---------- institution: templates, upload, result, history ----------

  function loadOwn() {
    var period = state.period;
    return api('GET', '/api/submissions?' + qs({ period: period })).then(function (data) {
      if (period !== state.period) return;
      $('own-sub').textContent = data.name + ' · ' + data.periodLabel;
      renderOwn(data);
      $('app-view').setAttribute('data-period', period);
      return api('GET', '/api/history?' + qs({ to: period })).then(function (d) { if (period === state.period) renderMonths(d); });
    }).catch(function (err) { toast(err.message, true); });
  }

  function renderMonths(d) {
    var t = clear($('months'));
    t.appendChild(h('thead', null, [h('tr', null, [h('th', { class: 'inst', text: '报表' })].concat(d.periods.map(function (p) {
      return h('th', { class: p === state.period ? 'current' : null }, [h('button', { type: 'button', class: 'link-btn', onclick: function () { pickPeriod(p); } }, [p.slice(2, 4) + '年' + Number(p.slice(5, 7)) + '月'])]);
    })))]));
    t.appendChild(h('tbody', null, d.rows.map(function (r) {
      return h('tr', null, [h('td', { class: 'inst', text: r.title })].concat(d.periods.map(function (p) {
        var c = r.cells[p];
        if (!c) return h('td', { class: 'na' + (p === state.period ? ' current' : ''), text: '—', title: '该期尚无通过校验的报表' });
        return h('td', { class: 'cell' + (p === state.period ? ' current' : '') }, [h('span', { class: 'box s-' + c.status + (c.late ? ' late-mark' : ''), title: bj(c.uploadedAt) + (c.late ? ' · 逾期' : ''), text: STATUS[c.status] })]);
      })));
    })));
    // the latest months first in view when the box is narrower than the table (a phone)
    t.parentNode.scrollLeft = t.parentNode.scrollWidth;
  }

  function pickPeriod(p) {
    if (state.me.periods.indexOf(p) < 0) return;
    state.period = p;
    $('period').value = p;
    $('result-card').hidden = true;
    load();
  }

  function renderOwn(data) {
    var body = clear($('own-table').tBodies[0]);
    data.rows.forEach(function (row) {
      var last = row.versions[0];
      var up = state.uploads[row.template] || null;
      // a quarterly or annual return in this month's reporting window carries its own period
      var period = row.period || data.period;
      var file = h('input', { type: 'file', accept: '.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', hidden: true, 'data-template': row.template });
      file.addEventListener('change', function () { if (file.files && file.files[0]) upload(row.template, period, file.files[0], file); });
      var progress = h('div', { class: 'upload-progress', id: 'up-' + row.template, hidden: !up }, [
        h('div', { class: 'progress' }, [h('div', { class: 'bar' })]),
        h('div', { class: 'progress-text' }),
      ]);
      var lateNote = row.late ? row.timeliness : null;
      body.appendChild(h('tr', { 'data-template': row.template }, [
        h('td', null, [h('div', { text: row.title }), h('div', { class: 'small muted', text: row.template + (period !== data.period ? ' · ' + periodText(period) : '') + ' · 截止 ' + row.deadline })]),
        h('td', null, [chip(row.status, lateNote)]),
        h('td', { class: 'small' }, [last ? bj(last.uploadedAt) + '（共 ' + row.versions.length + ' 次）' : '—']),
        h('td', { class: 'upload-cell' }, [
          h('div', { class: 'actions' }, [
            h('a', { class: 'btn', href: '/api/template?' + qs({ template: row.template, period: period }), download: '', 'data-action': 'template' }, ['下载空白模板']),
            h('button', { type: 'button', class: 'btn primary', 'data-action': 'upload', onclick: function () { file.value = ''; file.click(); } }, [row.versions.length ? '重新上传' : '上传报表']),
            file,
          ]),
          progress,
        ]),
      ]));
    });
    labelCells($('own-table'));
    var hist = clear($('history-table').tBodies[0]);
    var all = [];
    data.rows.forEach(function (row) { row.versions.forEach(function (v) { all.push({ v: v, title: row.title }); }); });
    all.sort(function (a, b) { return a.v.uploadedAt < b.v.uploadedAt ? 1 : -1; });
    if (!all.length) hist.appendChild(h('tr', null, [h('td', { colspan: '6', class: 'empty', text: '本统计期尚无上报记录' })]));
    all.forEach(function (x) {
      var v = x.v;
      hist.appendChild(h('tr', null, [
        h('td', { class: 'small', text: bj(v.uploadedAt) }),
        h('td', { text: x.title }),
        h('td', { class: 'small', text: v.fileName }),
        h('td', null, [chip(v.status)]),
        h('td', { class: 'small', text: v.errors + ' / ' + v.warnings }),
        h('td', null, [h('div', { class: 'actions' }, [
          h('button', { type: 'button', class: 'link-btn', onclick: function () { showReport(v); } }, ['查看']),
          v.status !== 'accepted' ? h('a', { href: feedbackHref(v), 'data-action': 'feedback' }, ['批注工作簿']) : null,
        ])]),
      ]));
    });
    labelCells($('history-table'));
  }

  function feedbackHref(v) {
    return '/api/download/feedback?' + qs({ institution: v.institution, template: v.template, period: v.period, versionId: v.versionId });
  }

  function setProgress(template, pct, text) {
    var box = $('up-' + template);
    if (!box) return;
    box.hidden = false;
    box.querySelector('.bar').style.width = Math.max(0, Math.min(100, pct)) + '%';
    box.querySelector('.progress-text').textContent = text;
  }

  function upload(template, period, file, input) {
    if (!/\.xlsx$/i.test(file.name)) { toast('只接受 .xlsx 工作簿；.xls、.csv、.et 请先在 Excel 或 WPS 中另存为 .xlsx', true); return; }
    state.uploads[template] = true;
    setProgress(template, 0, '正在准备上传…');
    api('POST', '/api/uploads', { template: template, period: period, fileName: file.name, size: file.size })
      .then(function (post) {
        if (file.size > post.maxBytes) throw new Error('文件超过 ' + mb(post.maxBytes) + ' 的上限');
        return send(post, file, function (loaded, total) {
          setProgress(template, total ? loaded * 100 / total : 0, '正在上传 ' + Math.round(total ? loaded * 100 / total : 0) + '%（' + mb(loaded) + ' / ' + mb(total) + '）');
        }).then(function () { return post.key; });
      })
      .then(function (key) {
        state.lastKey = key;
        setProgress(template, 100, '上传完成，正在校验…');
        return poll(key, Date.now());
      })
      .then(function (result) {
        delete state.uploads[template];
        if (!result) { setProgress(template, 100, '校验仍在进行，请稍后点击“刷新”查看结果'); return; }
        renderResult(result.report);
        return loadOwn().then(function () { scrollToResult(); });
      })
      .catch(function (err) {
        delete state.uploads[template];
        setProgress(template, 0, '上传失败：' + err.message);
        toast('上传失败：' + err.message, true);
      })
      .then(function () { if (input) input.value = ''; });
  }

  /** The presigned POST, straight to object storage, with progress (fetch has no upload progress). */
  function send(post, file, onProgress) {
    return new Promise(function (resolve, reject) {
      var form = new FormData();
      Object.keys(post.fields).forEach(function (k) { form.append(k, post.fields[k]); });
      form.append('file', file);
      var xhr = new XMLHttpRequest();
      xhr.open('POST', post.url);
      xhr.upload.onprogress = function (e) { onProgress(e.loaded, e.lengthComputable ? e.total : file.size); };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) return resolve();
        var m = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || '');
        reject(new Error('存储服务拒绝了上传（' + xhr.status + (m ? '：' + m[1] : '') + '）'));
      };
      xhr.onerror = function () { reject(new Error('网络中断，请重新上传')); };
      xhr.ontimeout = function () { reject(new Error('上传超时，请重新上传')); };
      xhr.send(form);
    });
  }

  function poll(key, started) {
    return api('GET', '/api/upload-status?' + qs({ key: key })).then(function (s) {
      if (s.state === 'done') return s;
      if (Date.now() - started > POLL_LIMIT_MS) return null;
      return new Promise(function (r) { setTimeout(r, POLL_MS); }).then(function () { return poll(key, started); });
    });
  }

  function showReport(v) {
    return api('GET', '/api/report?' + qs({ institution: v.institution, template: v.template, period: v.period, versionId: v.versionId }))
      .then(function (report) {
        if (state.tab !== 'own' && state.me.code === report.institution) { state.tab = 'own'; showTab(); }
        renderResult(report);
        scrollToResult();
      })
      .catch(function (err) { toast(err.message, true); });
  }

  function scrollToResult() {
    var card = $('result-card');
    if (card.scrollIntoView) card.scrollIntoView(true);
  }

  var names = {};
  function institutionName(code) { return names[code] || code; }

  function templateTitle(id) {
    var t = (state.me.templates || []).filter(function (x) { return x.id === id; })[0];
    return t ? t.title : names[id] || id;
  }

  function renderResult(r) {
    $('result-card').hidden = false;
    var who = r.institution !== state.me.code ? institutionName(r.institution) + ' · ' : '';
    $('result-title').textContent = who ? '校验结果：' + who.slice(0, -3) : '校验结果';
    $('result-sub').textContent = periodText(r.period) + ' ' + r.template + ' · ' + r.fileName + ' · ' + bj(r.uploadedAt) + ' 上传';
    var body = clear($('result-body'));
    var what = periodText(r.period) + ' ' + templateTitle(r.template);
    var cls = r.status === 'rejected' ? 'error' : r.status === 'accepted_with_warnings' ? 'warn' : 'ok';
    var head = r.status === 'rejected'
      ? '未通过：发现 ' + r.errors + ' 个错误' + (r.warnings ? '、' + r.warnings + ' 个警告' : '') + '，本次上报未入库。请按下列说明修改后重新上传。'
      : r.status === 'accepted_with_warnings'
        ? '已通过（有 ' + r.warnings + ' 个警告）：' + what + ' 已入库。请核实下列警告，如数据有误可重新上传。'
        : '已通过：' + what + ' 已通过校验并入库。';
    body.appendChild(h('div', { class: 'notice ' + cls, id: 'result-status', 'data-status': r.status }, [
      h('strong', { text: head }),
      r.feedback && r.status !== 'accepted' ? h('div', { class: 'actions' }, [
        h('a', { class: 'btn', href: feedbackHref(r), id: 'feedback-link', 'data-action': 'feedback' }, ['下载批注工作簿（问题单元格已标出）']),
      ]) : null,
    ]));
    var issues = r.issues.filter(function (i) { return i.severity !== 'info'; });
    if (issues.length) {
      var rows = issues.map(function (i, n) {
        return h('tr', null, [
          h('td', { class: 'num', text: String(n + 1) }),
          h('td', { class: 'sev-' + i.severity, text: SEV[i.severity] || i.severity }),
          h('td', { class: 'cellref', text: (i.sheet ? i.sheet + ' ' : '') + (i.cell || '') }),
          h('td', { text: i.message }),
        ]);
      });
      body.appendChild(h('table', { class: 'table compact cards', id: 'issue-table' }, [
        h('thead', null, [h('tr', null, [h('th', { class: 'num c-no', text: '序号' }), h('th', { class: 'c-sev', text: '级别' }), h('th', { class: 'c-pos', text: '位置' }), h('th', { text: '问题说明' })])]),
        h('tbody', null, rows),
      ]));
      if (r.more) body.appendChild(h('p', { class: 'small muted', text: '另有 ' + r.more + ' 条问题未列出，见批注工作簿。' }));
    }
    if (r.infos) body.appendChild(h('p', { class: 'small muted', text: '系统自动规范了 ' + r.infos + ' 处填写格式（如文本数字、全角数字），不影响入库。' }));
  }

  // ---------- commission: grid, indicators, workbooks, issues ----------

  function loadCounty() {
    var period = state.period;
    var county = api('GET', '/api/county?' + qs({ period: period })).then(function (data) {
      if (period !== state.period) return;
      renderCounty(data);
      $('app-view').setAttribute('data-period', period);
    });
    var indicators = api('GET', '/api/indicators?' + qs({ period: period })).then(function (data) {
      if (period !== state.period) return;
      renderIndicators(data);
      return trendCodes(data.rows);
    });
    var y = '/api/draft?period=' + period.slice(0, 4);
    $('draft-month').href = y + period.slice(4);
    $('draft-quarter').href = y + '-Q' + Math.ceil(period.slice(5) / 3);
    $('draft-year').href = y;
    return Promise.all([county, indicators, loadConsolidated()]).catch(function (err) { toast(err.message, true); });
  }

  function renderCounty(d) {
    $('grid-title').textContent = d.countyName + ' ' + d.periodLabel + ' 上报情况';
    var t = d.totals;
    var stats = clear($('stats'));
    [
      ['应报', t.owed, ''],
      ['已通过', t.submitted, 'ok'],
      ['未通过', t.rejected, 'bad'],
      ['未上报', t.missing, 'grey'],
      ['上报率', t.rate === null ? '—' : t.rate + '%', ''],
      ['及时率', t.timely === null ? '—' : t.timely + '%', t.late ? 'bad' : 'ok'],
    ].forEach(function (s) {
      stats.appendChild(h('div', { class: 'stat ' + s[2] }, [h('div', { class: 'v', text: String(s[1]) }), h('div', { class: 'k', text: s[0] })]));
    });
    d.rows.forEach(function (r) { names[r.code] = r.name; });
    d.columns.forEach(function (c) { names[c.id] = c.title; });
    var grid = clear($('grid'));
    grid.appendChild(h('thead', null, [h('tr', null, [h('th', { class: 'inst', text: '机构' })].concat(d.columns.map(function (c) {
      return h('th', { title: c.title + ' · ' + c.periodLabel }, [h('div', { text: c.title.replace(/月报$/, '') }), h('div', { class: 'small muted', text: c.id + (c.period !== d.period ? ' · ' + c.periodLabel : '') })]);
    })))]));
    var tb = h('tbody');
    d.rows.forEach(function (r) {
      tb.appendChild(h('tr', { 'data-institution': r.code }, [h('td', { class: 'inst' }, [h('span', { class: 'code', text: r.code }), r.name])].concat(d.columns.map(function (c) {
        var cell = r.cells[c.id];
        if (!cell) return h('td', { class: 'na', text: '—', title: '无需报送' });
        var tip = (cell.laterRejected ? '其后一次上报未通过；' : '') + STATUS[cell.status] + (cell.uploadedAt ? ' · ' + bj(cell.uploadedAt) : '') + (cell.versionCount ? ' · 上报 ' + cell.versionCount + ' 次' : '') + ' · ' + cell.timeliness;
        return h('td', { class: 'cell', 'data-template': c.id, 'data-status': cell.status, 'data-label': c.title }, [
          h('span', { class: 'box s-' + cell.status + (cell.late ? ' late-mark' : ''), title: tip }, [
            STATUS[cell.status],
            cell.laterRejected ? h('span', { class: 'later-bad', title: '其后一次上报未通过（' + cell.laterRejected.errors + ' 个错误），仍以已通过的版本为准', text: '!' }) : null,
          ]),
          cell.late ? h('span', { class: 'late-tag phone', text: '逾期' }) : null,
        ]);
      }))));
    });
    grid.appendChild(tb);
    var issues = clear($('issues'));
    $('issues-sub').textContent = d.issues.length ? '共 ' + (d.issues.length + d.moreIssues) + ' 条' : '';
    var list = d.issues.slice().sort(function (a, b) { return (a.state === '未解决' ? 0 : 1) - (b.state === '未解决' ? 0 : 1); });
    if (!list.length) issues.appendChild(h('li', { class: 'empty', text: '本期没有待处理的校验问题' }));
    list.slice(0, 200).forEach(function (i) {
      issues.appendChild(h('li', null, [
        h('div', { class: 'line1' }, [
          h('span', { class: 'chip ' + (i.state === '未解决' ? 's-rejected' : 's-accepted_with_warnings'), text: i.state === '未解决' ? '未解决' : '警告' }),
          h('button', { type: 'button', class: 'link-btn', title: '查看该次上报', onclick: function () { showReport({ institution: i.institution, template: i.template, period: i.period || d.period, versionId: i.versionId }); } }, [i.name]),
          h('span', { class: 'small muted', text: i.template + (i.cell ? ' · ' + i.cell : '') }),
        ]),
        h('div', { class: 'msg', text: i.message }),
      ]));
    });
  }

  function fmt(v, unit) {
    if (v === null || v === undefined) return '—';
    var pct = unit === '%' || unit === '‰' || unit === '1/10万';
    var n = pct || unit === '比值' ? v.toFixed(2) : Math.round(v * 100) / 100;
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (pct ? unit : '');
  }

  function renderIndicators(d) {
    $('ind-sub').textContent = d.labels ? d.labels.current + ' / ' + d.labels.ytd + '；率由分子分母之和重新计算；随全年累积的目标按序时进度（年度目标 × 已过月数 ÷ 12）判定' : '';
    var tb = clear($('indicators').tBodies[0]);
    if (!d.rows.length) tb.appendChild(h('tr', null, [h('td', { colspan: '8', class: 'empty', text: '暂无数据' })]));
    var withTarget = d.rows.filter(function (r) { return r.target; });
    var shown = state.allIndicators ? d.rows : withTarget.concat(d.rows.filter(function (r) { return !r.target; }).slice(0, 6));
    shown.forEach(function (r) {
      var t = r.target;
      var verdict = !t ? h('span', { class: 'nodata', text: '—' }) : h('span', { class: t.status === '达标' ? 'met' : t.status === '未达标' ? 'missed' : 'nodata', text: t.verdict });
      var sign = t ? (t.direction === '>=' ? '≥' : '≤') : '';
      tb.appendChild(h('tr', { 'data-indicator': r.code }, [
        h('td', { class: 'ellipsis', title: r.name + '（' + r.template + '）' }, [r.name]),
        h('td', { class: 'num', text: fmt(r.current, r.unit) }),
        h('td', { class: 'num', text: fmt(r.ytd, r.unit) }),
        h('td', { class: 'num small', text: r.covered + '/' + r.owed }),
        h('td', { class: 'num', text: t ? sign + fmt(t.value, r.unit) : '—' }),
        h('td', { class: 'num', title: t && t.paced !== null ? '年度目标 × ' + t.elapsed + '/12' : '', text: t && t.paced !== null ? sign + fmt(t.paced, r.unit) : t ? '不适用' : '—' }),
        h('td', { class: 'small muted ellipsis', title: t ? t.document : '', text: t ? t.document : '' }),
        h('td', null, [verdict]),
      ]));
    });
    labelCells($('indicators'));
    if (d.rows.length > shown.length || state.allIndicators) {
      tb.appendChild(h('tr', null, [h('td', { colspan: '8', class: 'more' }, [
        h('button', { type: 'button', class: 'link-btn', onclick: function () { state.allIndicators = !state.allIndicators; renderIndicators(d); } },
          [state.allIndicators ? '只看有目标的重点指标' : '显示全部 ' + d.rows.length + ' 项指标']),
      ])]));
    }
  }

  // ---------- trends (SVG) ----------

  function trendCodes(rows) {
    var sel = $('trend-code'), was = sel.value;
    clear(sel);
    rows.forEach(function (r) { sel.appendChild(h('option', { value: r.code, text: r.name })); });
    sel.value = was;
    if (sel.selectedIndex < 0) sel.selectedIndex = 0;
    return pickTrend();
  }
  function pickTrend() { state.trendInst = null; return loadTrend(); }
  $('trend-code').onchange = pickTrend;
  $('trend-months').onchange = loadTrend;

  function loadTrend() {
    var q = { code: $('trend-code').value, months: $('trend-months').value, to: state.period, institution: state.trendInst }, n = state.tn = (state.tn || 0) + 1;
    if (q.code) return api('GET', '/api/trend?' + qs(q)).then(function (s) {
      if (n !== state.tn) return;
      drawLine(s);
      if (s.ranking) state.rank = s;
      if (state.rank && state.rank.code === s.code) drawRank(state.rank);
    }).catch(function (err) { toast(err.message, true); });
  }

  /** the value, 年度目标 and 序时目标 (dashed) */
  function drawLine(s) {
    var pts = s.points, n = pts.length, box = clear($('trend-chart')), g = h('svg', { viewBox: '0 0 640 230', class: 'sc' }, 0, 1), vals = [];
    pts.forEach(function (p) { var t = p.target || {}; vals.push(p.value, t.value, t.paced); });
    vals = vals.filter(function (v) { return v != null; });
    $('trend-sub').textContent = (s.institution ? s.institution.name : s.county.name + '合计') + ' · ' + s.name + '（' + s.unit + '）' + (s.ranking ? ' · 点击机构看其趋势' : '');
    if (!vals.length) return box.appendChild(h('p', { class: 'muted small', text: '所选期间没有数据' }));
    var lo = Math.min.apply(0, vals), hi = Math.max.apply(0, vals), pad = (hi - lo) / 10 || 1;
    lo = Math.max(0, lo - pad); hi += pad;
    function x(i) { return 60 + 556 * (n > 1 ? i / (n - 1) : 0.5); }
    function y(v) { return 12 + (hi - v) * 188 / (hi - lo); }
    function add(tag, attrs, kids) { return g.appendChild(h(tag, attrs, kids, 1)); }
    for (var k = 0; k < 5; k++) {
      var v = lo + (hi - lo) * k / 4;
      add('line', { x1: 60, x2: 616, y1: y(v), y2: y(v) });
      add('text', { x: 56, y: y(v) + 4, class: 'end', text: fmt(v, s.unit) });
    }
    pts.forEach(function (p, i) { if (i % Math.ceil(n / 12) === 0 || i === n - 1) add('text', { x: x(i), y: 220, class: 'mid', text: p.period.slice(2) }); });
    [['value', 'target'], ['paced', 'pace'], ['', 'line']].forEach(function (l) {
      var d = '', pen = 'M';
      pts.forEach(function (p, i) { var v = l[0] ? p.target && p.target[l[0]] : p.value; if (v == null) pen = 'M'; else { d += pen + x(i) + ' ' + y(v); pen = 'L'; } });
      add('path', { d: d, class: l[1] });
    });
    pts.forEach(function (p, i) {
      if (p.value !== null) add('circle', { cx: x(i), cy: y(p.value), r: 3.5, class: p.covered < p.owed ? 'dot part' : 'dot' }, [h('title', { text: periodText(p.period) + '：' + fmt(p.value, s.unit) + '（实报 ' + p.covered + '/' + p.owed + '）' + (p.target ? '，' + p.target.verdict : '') }, 0, 1)]);
    });
    box.appendChild(g);
    box.appendChild(h('p', { class: 'small muted', text: '红虚线：年度目标；橙虚线：序时目标；空心点：有缺报' }));
  }

  function drawRank(s) {
    var rows = s.ranking, max = Math.max.apply(0, rows.map(function (r) { return r.value; }).concat([1e-9]));
    var g = clear($('trend-rank')).appendChild(h('svg', { viewBox: '0 0 640 ' + (rows.length * 20 + 4), class: 'sc' }, 0, 1));
    rows.forEach(function (r, i) {
      var w = 390 * r.value / max, y = i * 20 + 16;
      g.appendChild(h('g', { class: 'bar' + (r.code === state.trendInst ? ' on' : ''), 'data-institution': r.code, onclick: function () { state.trendInst = state.trendInst === r.code ? null : r.code; loadTrend(); } }, [
        h('text', { x: 154, y: y, class: 'end', text: r.name }, 0, 1),
        h('rect', { x: 160, y: y - 11, height: 14, width: r.value === null ? 0 : Math.max(w, 1) }, 0, 1),
        h('text', { x: 164 + w, y: y, text: r.value === null ? r.status : fmt(r.value, s.unit) }, 0, 1),
      ], 1));
    });
  }

  function loadConsolidated() {
    return api('GET', '/api/consolidated').then(function (d) {
      var tb = clear($('consolidated').tBodies[0]);
      if (!d.latest.length) tb.appendChild(h('tr', null, [h('td', { colspan: '3', class: 'empty', text: '尚未生成汇总表' })]));
      d.latest.forEach(function (o) {
        tb.appendChild(h('tr', { 'data-period': o.period }, [
          h('td', { text: /^\d{4}-\d{2}$/.test(o.period) ? periodText(o.period) : o.period }),
          h('td', { class: 'small', text: bj(o.lastModified) }),
          h('td', null, [h('a', { href: '/api/download/consolidated?' + qs({ key: o.key }), 'data-action': 'consolidated' }, ['下载（' + mb(o.size) + '）'])]),
        ]));
      });
      var runs = clear($('runs'));
      d.runs.slice(0, 30).forEach(function (o) {
        runs.appendChild(h('li', null, [h('a', { href: '/api/download/consolidated?' + qs({ key: o.key }) }, [o.name]), ' ', h('span', { class: 'muted', text: bj(o.lastModified) })]));
      });
    });
  }

  $('regenerate').addEventListener('click', function () {
    var btn = this;
    var period = state.period;
    btn.disabled = true;
    $('regen-msg').textContent = '正在生成 ' + periodText(period) + ' 汇总表…';
    api('POST', '/api/regenerate', { period: period })
      .then(function (r) {
        $('regen-msg').textContent = '';
        toast('已生成：' + r.fileName);
        return loadConsolidated();
      })
      .catch(function (err) { $('regen-msg').textContent = ''; toast('生成失败：' + err.message, true); })
      .then(function () { btn.disabled = false; });
  });

  // ---------- start ----------

  // links in alerts: a rejected upload (/submissions/<institution>/<template>/<period>/<versionId>), a period (/?period=2025-03, the digest)
  var m = /^\/submissions\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(location.pathname);
  if (m) state.deepLink = { institution: decodeURIComponent(m[1]), template: decodeURIComponent(m[2]), period: decodeURIComponent(m[3]), versionId: decodeURIComponent(m[4]) };
  var q = /[?&]period=(\d{4}(?:-\d{2}|-Q[1-4])?)(?:&|$)/.exec(location.search);
  if (q) state.linkPeriod = q[1];

  // ---------- commission: 定义管理 ----------

  var defs = { data: null, effective: null };

  function loadDefinitions() {
    var sel = $('defs-effective');
    if (!sel.options.length) {
      var now = state.me.periods[0];
      for (var k = -12; k <= 12; k++) {
        var d = new Date(Date.UTC(Number(now.slice(0, 4)), Number(now.slice(5, 7)) - 1 + k, 1));
        var p = d.toISOString().slice(0, 7);
        sel.appendChild(h('option', { value: p, text: periodText(p) + (k === 0 ? '（本月）' : '') }));
      }
      sel.value = now;
    }
    return api('GET', '/api/definitions').then(function (d) {
      $('defs-sub').textContent = '现行第 ' + d.version + ' 版';
      var body = clear($('defs-history').tBodies[0]);
      d.versions.forEach(function (v) {
        body.appendChild(h('tr', null, [
          h('td', { text: '第 ' + v.version + ' 版' }),
          h('td', { text: v.effective ? periodText(v.effective) + '起' : '初始定义' }),
          h('td', { class: 'small', text: bj(v.createdAt) }),
          h('td', { class: 'small', text: v.by }),
          h('td', { class: 'small' }, [h('ul', { class: 'plain' }, v.summary.map(function (line) { return h('li', { text: line }); }))]),
        ]));
      });
      labelCells($('defs-history'));
    }).catch(function (err) { toast(err.message, true); });
  }

  function showDefinitionsReport(r) {
    var ok = r.status !== 'rejected';
    var head = r.status === 'rejected' ? '未通过检查：请按下列提示修改工作簿后重新上传，定义未作任何修改。' : r.status === 'unchanged' ? '与现行定义相同，无需导入。' : r.dryRun ? '检查通过。确认无误后点击“确认导入”，自 ' + periodText(r.effective) + ' 起执行。' : '已导入：定义第 ' + r.version + ' 版，自 ' + periodText(r.effective) + ' 起执行。';
    var box = clear($('defs-result'));
    box.appendChild(h('div', { class: 'notice ' + (ok ? 'ok' : 'error'), text: head }));
    var lines = r.issues.map(function (i) { return h('li', { class: i.severity === 'error' ? 'sev-error' : 'sev-warning', text: (i.severity === 'error' ? '错误：' : '提示：') + i.message }); });
    if (lines.length) box.appendChild(h('ul', { class: 'issue-list' }, lines));
    if (r.summary.length) box.appendChild(h('div', null, [h('h3', { text: '修改内容' }), h('ul', { class: 'plain' }, r.summary.map(function (line) { return h('li', { text: line }); }))]));
    $('defs-import').disabled = !(r.status === 'accepted' && r.dryRun);
  }

  function sendDefinitions(path) {
    return api('POST', path, { effective: defs.effective, data: defs.data }).then(showDefinitionsReport);
  }

  $('defs-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var file = $('defs-file').files[0];
    $('defs-import').disabled = true;
    if (!file) { toast('请先选择修改后的定义工作簿（.xlsx）', true); return; }
    var reader = new FileReader();
    reader.onload = function () {
      defs.data = String(reader.result).replace(/^data:[^,]*,/, '');
      defs.effective = $('defs-effective').value;
      sendDefinitions('/api/definitions/check').catch(function (err) { toast(err.message, true); });
    };
    reader.readAsDataURL(file);
  });

  $('defs-import').addEventListener('click', function () {
    this.disabled = true;
    sendDefinitions('/api/definitions/import').then(loadDefinitions).catch(function (err) { toast(err.message, true); });
  });

  api('GET', '/api/me').then(start, function () { showLogin(); });
})();
