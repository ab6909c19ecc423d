/* 卫生健康统计报表平台 — the page. Plain ES2017 (Chromium ≥ 60, WPS/360 speed mode), no framework,
   no build. The DOM is built with textContent only: nothing from the server is parsed as HTML.
   This file: sign-in, the tabs, an institution's returns and uploads. The county's, city's and
   administrator's views are in staff.js, loaded only for people who have them (the institutions'
   page stays small on a slow line). */
(function () {
  'use strict';

  var STATUS = { accepted: '已通过', accepted_with_warnings: '有警告', rejected: '未通过', missing: '未上报', pending: '校验中' };
  var REVIEW = { pending: '待审核', approved: '已审核', returned: '退回' };
  var TABS = ['own', 'county', 'city', 'users', 'defs', 'audit'];
  /** which tabs a role opens, first the one shown at sign-in */
  var ROLE_TABS = { admin: ['county', 'users', 'defs', 'audit'], reviewer: ['county'], reporter: ['own'], viewer: ['city'] };
  var SEV = { error: '错误', warning: '警告', info: '提示' };
  var POLL_MS = 1000;
  var POLL_LIMIT_MS = 120000;

  var state = { me: null, period: null, tab: 'own', tabs: [], deepLink: null, linkPeriod: null, uploads: {}, lastKey: null, login: null, notes: {} };
  /** the staff views (staff.js) register their loaders here */
  var views = {};

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

  /** 已审核 / 待审核 / 退回：reason, for a return or its correction (补报) */
  function reviewLine(r, correction) {
    if (!r) return h('span', { class: 'muted', text: '—' });
    return h('div', { class: 'review-line', 'data-review': r.state }, [
      h('span', { class: 'rv rv-' + r.state, text: (correction ? '补报' : '') + REVIEW[r.state] }),
      r.state === 'returned' ? h('div', { class: 'small returned', text: '退回原因：' + (r.reason || '') + (r.by ? '（' + r.by + '）' : '') }) : null,
      r.explanation ? h('div', { class: 'small muted', text: '说明：' + r.explanation }) : null,
    ]);
  }

  // ---------- sign-in ----------

  function showLogin() {
    state.me = null;
    $('who').hidden = true;
    $('app-view').hidden = true;
    $('login-view').hidden = false;
    $('login-form').hidden = false;
    $('newpw-form').hidden = true;
    $('brand-sub').textContent = '机构月报 · 在线报送与汇总';
    setTimeout(function () { $('login-user').focus(); }, 0);
  }

  function signedIn(me) {
    $('login-password').value = '';
    $('newpw').value = '';
    $('newpw2').value = '';
    start(me);
  }

  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var btn = $('login-submit');
    btn.disabled = true;
    $('login-error').textContent = '';
    api('POST', '/api/login', { username: $('login-user').value.trim(), password: $('login-password').value })
      .then(function (r) {
        if (r.challenge !== 'new-password') return signedIn(r);
        state.login = { username: r.username, session: r.session };
        $('login-form').hidden = true;
        $('newpw-form').hidden = false;
        $('newpw').focus();
      })
      .catch(function (err) { $('login-error').textContent = err.message; })
      .then(function () { btn.disabled = false; });
  });

  $('newpw-form').addEventListener('submit', function (e) {
    e.preventDefault();
    if ($('newpw').value !== $('newpw2').value) { $('newpw-error').textContent = '两次输入的新密码不一致'; return; }
    var btn = $('newpw-submit');
    btn.disabled = true;
    $('newpw-error').textContent = '';
    api('POST', '/api/login/new-password', { username: state.login.username, session: state.login.session, newPassword: $('newpw').value })
      .then(signedIn)
      .catch(function (err) { $('newpw-error').textContent = err.message; })
      .then(function () { btn.disabled = false; });
  });

  $('logout').addEventListener('click', function () {
    api('POST', '/api/logout', {}).catch(function () {}).then(showLogin);
  });

  // ---------- the signed-in page ----------

  function start(me) {
    // the page's own /api/me and a sign-in may both answer: the second must not undo what the user chose since
    if (state.me && state.me.username === me.username && !$('app-view').hidden) return;
    state.me = me;
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = me.name + '（' + me.unitName + '）';
    $('who-role').textContent = me.roleLabels.join('、');
    $('brand-sub').textContent = (me.cityName || '') + (me.countyName ? ' · ' + me.countyName : '');
    var sel = clear($('period'));
    me.periods.forEach(function (p) { sel.appendChild(h('option', { value: p, text: periodText(p) })); });
    state.period = me.defaultPeriod;
    var linked = windowMonth(state.deepLink ? state.deepLink.period : state.linkPeriod || '');
    if (linked && me.periods.indexOf(linked) >= 0) state.period = linked;
    sel.value = state.period;
    state.tabs = [];
    ['reporter', 'reviewer', 'admin', 'viewer'].forEach(function (r) {
      if (me.roles.indexOf(r) >= 0) ROLE_TABS[r].forEach(function (t) { if (state.tabs.indexOf(t) < 0) state.tabs.push(t); });
    });
    TABS.forEach(function (t) { $('tab-' + t).hidden = state.tabs.indexOf(t) < 0; });
    $('tabs').hidden = state.tabs.length < 2;
    // a deep link to one's own upload opens the own view; a county's person sees it over the grid
    state.tab = state.deepLink && me.institution === state.deepLink.institution ? 'own' : state.tabs.indexOf('county') >= 0 ? 'county' : state.tabs[0];
    showTab();
    if (state.deepLink) {
      var d = state.deepLink;
      state.deepLink = null;
      showReport(d);
    }
  }

  function showTab() {
    // the month picker is for the views of a month
    $('toolbar').hidden = ['users', 'defs', 'audit'].indexOf(state.tab) >= 0;
    TABS.forEach(function (t) {
      $(t + '-view').hidden = state.tab !== t;
      $('tab-' + t).className = 'tab' + (state.tab === t ? ' active' : '');
    });
    load();
  }

  TABS.forEach(function (t) {
    $('tab-' + t).addEventListener('click', function () { state.tab = t; $('result-card').hidden = true; showTab(); });
  });
  $('period').addEventListener('change', function () { state.period = this.value; $('result-card').hidden = true; load(); });
  $('refresh').addEventListener('click', function () { load(); });
  $('result-close').addEventListener('click', function () { $('result-card').hidden = true; });

  /** staff.js, once, for the views that are not an institution's */
  var staffLoaded = null;
  function staff() {
    staffLoaded = staffLoaded || new Promise(function (resolve, reject) {
      var script = document.createElement('script');
      script.src = '/staff.js';
      script.onload = resolve;
      script.onerror = function () { staffLoaded = null; reject(new Error('页面加载失败，请刷新')); };
      document.body.appendChild(script);
    });
    return staffLoaded;
  }

  function load() {
    var me = state.me;
    if (!me) return Promise.resolve();
    var d = new Date(Date.UTC(Number(state.period.slice(0, 4)), Number(state.period.slice(5, 7)), me.deadlineDay));
    $('deadline').textContent = '报送截止：' + d.getUTCFullYear() + '年' + (d.getUTCMonth() + 1) + '月' + d.getUTCDate() + '日23:59';
    if (state.tab === 'own') return loadOwn();
    var tab = state.tab;
    return staff().then(function () { if (state.tab === tab) return views[tab](); }).catch(function (err) { toast(err.message, true); });
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
      var note = h('input', { class: 'note', maxlength: '500', placeholder: '说明（选填）：对警告的解释', 'data-template': row.template });
      note.value = state.notes[row.template] || '';
      note.addEventListener('input', function () { state.notes[row.template] = note.value; });
      body.appendChild(h('tr', { 'data-template': row.template }, [
        h('td', null, [h('div', { text: row.title }), h('div', { class: 'small muted', text: row.template + (period !== data.period ? ' · ' + periodText(period) : '') + ' · 截止 ' + row.deadline })]),
        h('td', null, [chip(row.status, lateNote)]),
        h('td', { class: 'review-cell' }, [reviewLine(row.review, false), row.correction ? reviewLine(row.correction.review, true) : null, row.closed ? h('div', { class: 'small muted', text: '本期已关账：再次上传为补报，审核通过后替换' }) : null]),
        h('td', { class: 'small' }, [last ? bj(last.uploadedAt) + '（共 ' + row.versions.length + ' 次）' : '—']),
        h('td', { class: 'upload-cell' }, [
          h('div', { class: 'actions' }, [
            h('a', { class: 'btn', href: '/api/template?' + qs({ template: row.template, period: period }), download: '', 'data-action': 'template' }, ['下载空白模板']),
            h('button', { type: 'button', class: 'btn primary', 'data-action': 'upload', onclick: function () { file.value = ''; file.click(); } }, [row.versions.length ? '重新上传' : '上传报表']),
            file,
          ]),
          note,
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
        var text = (state.notes[template] || '').trim();
        var explained = text && result.report.status !== 'rejected' ? explain(result.report, text) : Promise.resolve();
        return explained.then(function () {
          delete state.notes[template];
          renderResult(result.report);
          return loadOwn().then(function () { scrollToResult(); });
        });
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

  function explain(v, text) {
    return api('POST', '/api/explain', { template: v.template, period: v.period, versionId: v.versionId, text: text }).then(function () { toast('说明已提交'); });
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
        if (state.tab !== 'own' && state.me.institution === report.institution) { state.tab = 'own'; showTab(); }
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
    var who = r.institution !== state.me.institution ? institutionName(r.institution) + ' · ' : '';
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
    if (r.status === 'accepted_with_warnings' && r.institution === state.me.institution) {
      var box = h('textarea', { id: 'explain-text', maxlength: '500', rows: '2', placeholder: '数据无误时，请说明警告的原因（如：本月开展集中义诊），供审核员核实' });
      body.appendChild(h('form', { class: 'explain', onsubmit: function (e) { e.preventDefault(); if (box.value.trim()) explain(r, box.value.trim()).then(loadOwn).catch(function (err) { toast(err.message, true); }); } }, [
        h('label', { for: 'explain-text', text: '对警告的说明' }), box, h('button', { type: 'submit', class: 'btn', id: 'explain-submit' }, ['提交说明']),
      ]));
    }
  }

  // ---------- start ----------

  // links in alerts: a rejected upload (/submissions/<institution>/<template>/<period>/<versionId>), a period (/?period=2025-03, the digest)
  var m = /^\/submissions\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(location.pathname);
  if (m) state.deepLink = { institution: decodeURIComponent(m[1]), template: decodeURIComponent(m[2]), period: decodeURIComponent(m[3]), versionId: decodeURIComponent(m[4]) };
  var q = /[?&]period=(\d{4}(?:-\d{2}|-Q[1-4])?)(?:&|$)/.exec(location.search);
  if (q) state.linkPeriod = q[1];

  // what staff.js uses
  window.HMIS = { $: $, h: h, clear: clear, api: api, qs: qs, bj: bj, periodText: periodText, mb: mb, toast: toast, chip: chip, labelCells: labelCells, state: state, views: views, load: load, showReport: showReport, STATUS: STATUS, REVIEW: REVIEW, names: names };

  api('GET', '/api/me').then(start, function () { showLogin(); });
})();
