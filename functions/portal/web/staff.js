/* 卫生健康统计报表平台 — the views of the county's reviewers and administrators and of the city
   (loaded by app.js for them only): the grid and 审核, workbooks, 用户管理, 定义管理, 操作记录, 全市汇总.
   Plain ES2017, textContent only, as app.js. */
(function () {
  'use strict';

  var H = window.HMIS;
  var $ = H.$, h = H.h, clear = H.clear, api = H.api, qs = H.qs, bj = H.bj, periodText = H.periodText, mb = H.mb, toast = H.toast, labelCells = H.labelCells, state = H.state, load = H.load, showReport = H.showReport, STATUS = H.STATUS, names = H.names;
  // ---------- county (审核员, 管理员): grid, review, indicators, workbooks, issues ----------

  function loadCounty() {
    var period = state.period;
    var county = api('GET', '/api/county?' + qs({ period: period })).then(function (data) {
      if (period !== state.period) return;
      renderCounty(data);
      $('app-view').setAttribute('data-period', period);
    });
    var admin = state.me.roles.indexOf('admin') >= 0;
    $('regenerate').hidden = !admin;
    $('close-month').hidden = !admin;
    var y = '/api/draft?period=' + period.slice(0, 4);
    $('draft-month').href = y + period.slice(4);
    $('draft-quarter').href = y + '-Q' + Math.ceil(period.slice(5) / 3);
    $('draft-year').href = y;
    return Promise.all([county, loadIndicators(), loadConsolidated()]).catch(function (err) { toast(err.message, true); });
  }

  function loadIndicators() {
    var period = state.period;
    return api('GET', '/api/indicators?' + qs({ period: period, approved: $('approved-only').checked ? '1' : null })).then(function (data) {
      if (period !== state.period) return;
      renderIndicators(data);
      return trendCodes(data.rows);
    });
  }
  $('approved-only').addEventListener('change', function () { loadIndicators().catch(function (err) { toast(err.message, true); }); });

  function renderCounty(d) {
    $('grid-title').textContent = d.countyName + ' ' + d.periodLabel + ' 上报情况';
    var t = d.totals;
    var stats = clear($('stats'));
    [
      ['应报', t.owed, ''],
      ['已通过', t.submitted, 'ok'],
      ['已审核', t.approved, 'ok'],
      ['未审核', t.unreviewed, t.unreviewed ? 'bad' : 'ok'],
      ['未通过', t.rejected, 'bad'],
      ['未上报', t.missing, 'grey'],
      ['上报率', t.rate === null ? '—' : t.rate + '%', ''],
      ['及时率', t.timely === null ? '—' : t.timely + '%', t.late ? 'bad' : 'ok'],
    ].forEach(function (s) {
      stats.appendChild(h('div', { class: 'stat ' + s[2] }, [h('div', { class: 'v', text: String(s[1]) }), h('div', { class: 'k', text: s[0] })]));
    });
    $('close-msg').textContent = d.closed ? '已关账（' + d.closed.byName + ' ' + bj(d.closed.at) + '）：此后的上传为补报，审核通过后替换原报表' : '';
    $('close-month').disabled = !!d.closed;
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
        var rv = cell.correction ? 'correction' : cell.review;
        var reviewable = cell.review || cell.correction;
        return h('td', { class: 'cell' + (reviewable ? ' reviewable' : ''), 'data-template': c.id, 'data-status': cell.status, 'data-review': rv || '', 'data-label': c.title, onclick: reviewable ? function () { openReview(r.code, c.id, c.period); } : null }, [
          h('span', { class: 'box s-' + cell.status + (cell.late ? ' late-mark' : ''), title: tip + (rv ? ' · ' + RV[rv] + '（点击审核）' : '') }, [
            STATUS[cell.status],
            rv ? h('span', { class: 'rv rv-' + rv, text: RV[rv].slice(0, 1) }) : null,
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
    $('ind-sub').textContent = (d.labels ? d.labels.current + ' / ' + d.labels.ytd + '；率由分子分母之和重新计算；随全年累积的目标按序时进度（年度目标 × 已过月数 ÷ 12）判定' : '') + (d.approvedOnly ? '；仅含已审核报表' : d.unreviewed ? '；含未审核报表 ' + d.unreviewed + ' 份' : '');
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

  $('close-month').addEventListener('click', function () {
    var period = state.period;
    if (!window.confirm('关账后，' + periodText(period) + '的上传将作为补报，须经审核通过才替换原报表。确定关账？')) return;
    api('POST', '/api/close', { period: period }).then(function () { toast(periodText(period) + '已关账'); return load(); }).catch(function (err) { toast(err.message, true); });
  });

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


  // ---------- 审核: one return's warnings, 说明, 已核实, approve or return ----------

  var RV = { pending: '待审核', approved: '已审核', returned: '退回', correction: '补报待审' };

  /** the return of a grid cell: its column's period (a quarterly or annual return shows in its window's month) */
  function openReview(institution, template, period) {
    return api('GET', '/api/review?' + qs({ institution: institution, template: template, period: period || state.period })).then(renderReview).catch(function (err) { toast(err.message, true); });
  }

  function renderReview(d) {
    var card = $('review-card');
    card.hidden = false;
    $('review-title').textContent = '审核：' + d.name + ' · ' + d.title;
    $('review-sub').textContent = d.periodLabel + (d.closed ? ' · 已关账' : '');
    var body = clear($('review-body'));
    var t = d.target;
    if (!t) { body.appendChild(h('p', { class: 'muted', text: '没有通过校验的报表可审核' })); return; }
    var rv = t.review || { state: 'pending' };
    body.appendChild(h('div', { class: 'notice ' + (rv.state === 'approved' ? 'ok' : rv.state === 'returned' ? 'error' : 'warn'), id: 'review-state', 'data-state': rv.state, 'data-held': t.held ? '1' : '' }, [
      h('strong', { text: (t.held ? '补报（' + bj(t.uploadedAt) + '，审核通过后替换原报表）：' : '') + RV[rv.state] + (rv.byName ? '（' + rv.byName + ' ' + bj(rv.at) + '）' : '') }),
      rv.reason ? h('div', { text: '退回原因：' + rv.reason }) : null,
      h('div', { class: 'small', text: '上传：' + bj(t.uploadedAt) + (t.uploadedBy ? ' · ' + t.uploadedBy : '') + ' · ' + t.fileName + ' · ' + STATUS[t.status] }),
      t.explanation ? h('div', { id: 'review-explanation', text: '机构说明：' + t.explanation.text + '（' + t.explanation.byName + '）' }) : null,
    ]));
    if (t.warnings.length) {
      body.appendChild(h('table', { class: 'table compact cards', id: 'review-warnings' }, [
        h('thead', null, [h('tr', null, [h('th', { class: 'c-pos', text: '位置' }), h('th', { text: '警告' }), h('th', { class: 'w28', text: '核实' })])]),
        h('tbody', null, t.warnings.map(function (w) {
          var note = h('input', { maxlength: '500', placeholder: '核实说明', value: w.check ? w.check.note : '' });
          return h('tr', { 'data-key': w.key }, [
            h('td', { class: 'cellref', text: (w.sheet ? w.sheet + ' ' : '') + (w.cell || '') }),
            h('td', { text: w.message }),
            h('td', null, w.check ? [h('span', { class: 'rv rv-approved', text: '已核实' }), ' ' + (w.check.note || '') + '（' + w.check.byName + '）'] : d.canReview ? [note, h('button', { type: 'button', class: 'btn small-btn', 'data-action': 'check', onclick: function () {
              api('POST', '/api/review/check', { institution: d.institution, template: d.template, period: d.period, versionId: t.versionId, key: w.key, note: note.value }).then(function () { return openReview(d.institution, d.template, d.period); }).catch(function (err) { toast(err.message, true); });
            } }, ['已核实'])] : []),
          ]);
        })),
      ]));
    }
    if (t.remarks.length) body.appendChild(h('p', { class: 'small muted', text: '备注：' + t.remarks.map(function (x) { return x.element + ' ' + x.remark; }).join('；') }));
    if (!d.canReview) return;
    var reason = h('input', { id: 'review-reason', maxlength: '200', placeholder: '退回原因（退回时必填）' });
    var decide = function (decision) {
      return function () {
        api('POST', '/api/review', { institution: d.institution, template: d.template, period: d.period, versionId: t.versionId, decision: decision, reason: reason.value })
          .then(function () { toast(decision === 'approve' ? '已审核通过' : '已退回，已通知机构'); return openReview(d.institution, d.template, d.period).then(load); })
          .catch(function (err) { toast(err.message, true); });
      };
    };
    body.appendChild(h('div', { class: 'actions review-actions' }, [
      h('button', { type: 'button', class: 'btn primary', id: 'review-approve', onclick: decide('approve') }, ['审核通过']),
      reason,
      h('button', { type: 'button', class: 'btn', id: 'review-return', onclick: decide('return') }, ['退回']),
      h('button', { type: 'button', class: 'link-btn', onclick: function () { showReport({ institution: d.institution, template: d.template, period: d.period, versionId: t.versionId }); } }, ['查看校验结果']),
    ]));
    labelCells($('review-warnings') || h('table', null, [h('thead', null, [h('tr')]), h('tbody')]));
    if (card.scrollIntoView) card.scrollIntoView(true);
  }
  $('review-close').addEventListener('click', function () { $('review-card').hidden = true; });
  // ---------- 定义管理 (管理员) ----------

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


  // ---------- 用户管理 (管理员) ----------

  var STATUS_CLASS = { 正常: 's-accepted', 待首次登录: 's-pending', 已停用: 's-missing' };

  function loadUsers() {
    return api('GET', '/api/users').then(function (d) {
      var unit = $('user-unit');
      if (!unit.options.length) d.institutions.forEach(function (i) { unit.appendChild(h('option', { value: i.code, text: i.name + '（' + i.code + '）' })); });
      $('users-sub').textContent = '共 ' + d.users.length + ' 个账号';
      var body = clear($('users-table').tBodies[0]);
      d.users.forEach(function (u) {
        var act = function (what, label) {
          return h('button', { type: 'button', class: 'link-btn', 'data-action': what, onclick: function () {
            if (!window.confirm('确定' + label + '：' + u.name + '（' + u.username + '）？')) return;
            api('POST', '/api/users/' + what, { username: u.username }).then(function (r) {
              showUserMsg(r.temporaryPassword ? u.name + '（' + u.username + '）的临时密码：' + r.temporaryPassword + '（7 天内有效，首次登录须修改）' : u.name + ' ' + label + '完成', r.temporaryPassword);
              return loadUsers();
            }).catch(function (err) { toast(err.message, true); });
          } }, [label]);
        };
        body.appendChild(h('tr', { 'data-user': u.username }, [
          h('td', { text: u.name }), h('td', { text: u.username }), h('td', { text: u.roleLabels.join('、') }), h('td', { class: 'small', text: u.unitName }),
          h('td', null, [h('span', { class: 'chip ' + (STATUS_CLASS[u.statusLabel] || ''), text: u.statusLabel })]),
          h('td', null, [h('div', { class: 'actions' }, u.username === state.me.username ? [h('span', { class: 'muted small', text: '本人' })] : [u.enabled ? act('disable', '停用') : act('enable', '启用'), act('reset', '重置密码')])]),
        ]));
      });
      labelCells($('users-table'));
    });
  }

  function showUserMsg(text, secret) {
    var box = clear($('user-msg'));
    box.appendChild(h('div', { class: 'notice ' + (secret ? 'warn' : 'ok'), id: 'user-result', 'data-password': secret || '', text: text }));
  }

  $('user-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var roles = [].filter.call($('user-roles').querySelectorAll('input'), function (x) { return x.checked; }).map(function (x) { return x.value; });
    api('POST', '/api/users', { name: $('user-name').value, phone: $('user-phone').value, institution: $('user-unit').value, roles: roles })
      .then(function (r) {
        showUserMsg('已创建 ' + $('user-name').value + '（' + r.username + '）。临时密码：' + r.temporaryPassword + '（7 天内有效，首次登录须修改）', r.temporaryPassword);
        $('user-name').value = '';
        $('user-phone').value = '';
        return loadUsers();
      })
      .catch(function (err) { showUserMsg(err.message); toast(err.message, true); });
  });

  // ---------- 操作记录 (管理员) ----------

  var ACTIONS = { 'sign-in': '登录', 'sign-out': '退出', upload: '上传', download: '下载', review: '审核', explain: '说明', definitions: '定义管理', user: '用户管理', regenerate: '生成汇总表', 'close-month': '关账' };

  function auditQuery() {
    return qs({ from: $('audit-from').value, to: $('audit-to').value, action: $('audit-action').value || null, actor: $('audit-actor').value.trim() || null, institution: $('audit-inst').value.trim() || null });
  }

  function loadAudit() {
    var from = $('audit-from');
    if (!from.options.length) {
      state.me.periods.forEach(function (p) { [from, $('audit-to')].forEach(function (s) { s.appendChild(h('option', { value: p, text: periodText(p) })); }); });
      Object.keys(ACTIONS).forEach(function (a) { $('audit-action').appendChild(h('option', { value: a, text: ACTIONS[a] })); });
      from.value = state.me.periods[1];
    }
    var q = auditQuery();
    $('audit-export').setAttribute('href', '/api/audit/workbook?' + q);
    return api('GET', '/api/audit?' + q).then(function (d) {
      $('audit-sub').textContent = '共 ' + d.total + ' 条' + (d.total > d.events.length ? '（列出最近 ' + d.events.length + ' 条，全部见导出）' : '');
      var body = clear($('audit-table').tBodies[0]);
      if (!d.events.length) body.appendChild(h('tr', null, [h('td', { colspan: '6', class: 'empty', text: '没有符合条件的记录' })]));
      d.events.forEach(function (e) {
        body.appendChild(h('tr', { 'data-action': e.action, 'data-outcome': e.outcome }, [
          h('td', { class: 'small', text: bj(e.at) }), h('td', { text: ACTIONS[e.action] || e.action }),
          h('td', { class: e.outcome === 'ok' ? '' : 'sev-error', text: e.outcome === 'ok' ? '成功' : '拒绝' }),
          h('td', { class: 'small', text: (e.actor.name || '') + ' ' + e.actor.username }), h('td', { class: 'small', text: e.ip || '—' }), h('td', { class: 'small', text: e.detail }),
        ]));
      });
      labelCells($('audit-table'));
    });
  }
  $('audit-form').addEventListener('submit', function (e) { e.preventDefault(); loadAudit().catch(function (err) { toast(err.message, true); }); });

  // ---------- 全市汇总 (查看) ----------

  function loadCity() {
    var period = state.period;
    return api('GET', '/api/city?' + qs({ period: period })).then(function (d) {
      if (period !== state.period) return;
      $('city-title').textContent = d.cityName + ' ' + d.periodLabel + ' 各旗县上报情况';
      $('city-sub').textContent = d.labels.current + ' / ' + d.labels.ytd;
      var pct = function (x) { return x === null ? '—' : x.toFixed(1) + '%'; };
      var body = clear($('city-counties').tBodies[0]);
      d.counties.concat([d.overall]).forEach(function (c) {
        body.appendChild(h('tr', { 'data-county': c.key }, [h('td', { text: c.label }), h('td', { class: 'num', text: String(c.owed) }), h('td', { class: 'num', text: String(c.submitted) }), h('td', { class: 'num', text: String(c.approved) }), h('td', { class: 'num', text: pct(c.rate) }), h('td', { class: 'num', text: pct(c.timely) })]));
      });
      labelCells($('city-counties'));
      var ind = clear($('city-indicators').tBodies[0]);
      d.rows.forEach(function (r) {
        ind.appendChild(h('tr', null, [h('td', { text: r.name }), h('td', { class: 'num', text: fmt(r.current, r.unit) }), h('td', { class: 'num', text: fmt(r.ytd, r.unit) }), h('td', { class: 'num small', text: r.covered + '/' + r.owed })]));
      });
      labelCells($('city-indicators'));
      $('app-view').setAttribute('data-period', period);
    });
  }

  H.views.county = loadCounty;
  H.views.defs = loadDefinitions;
  H.views.users = loadUsers;
  H.views.audit = loadAudit;
  H.views.city = loadCity;
})();
