// The card form. It needs nothing but this origin: Telegram's launch data
// is read from the URL fragment (tgWebAppData, tgWebAppThemeParams), and the
// Mini App events (ready, expand, main button, close) are spoken directly
// (https://core.telegram.org/api/web-events), so the page works where
// telegram-web-app.js cannot load; when a Telegram.WebApp object is there
// all the same, it is used. The card number leaves the page only sealed
// (ECDH P-256 with the server's key, HKDF-SHA256, AES-256-GCM bound to the
// launch data: bot/miniapp/seal.go) in the body of the submission, never
// in a URL; only its first digits (the BIN) are sent to learn the bank.
'use strict';

(function () {
  var T = {
    zh: {
      title: '更换结算卡',
      lead: '卡号直接发送给我们，不会出现在聊天中。',
      card: '新结算卡卡号',
      holder: '持卡人姓名',
      holderHint: '须与商户登记的姓名一致；可留空，稍后在聊天中回答。',
      branch: '开户支行',
      branchHint: '例如：上海张江支行；可留空，稍后在聊天中回答。',
      phone: '银行预留手机号',
      phoneHint: '11 位手机号；可留空，稍后在聊天中回答。',
      submit: '提交',
      cardEmpty: '16–19 位数字',
      cardShort: '已输入 {n} 位，卡号为 16–19 位',
      cardLong: '卡号最多 19 位',
      cardOK: '✓ 卡号校验通过',
      cardLuhnBad: '卡号校验位不符，请核对卡号',
      cardLuhn62: '卡号校验位不符。部分银联卡如此：提交后会在聊天中请您确认。',
      notDebit: '这是信用卡；结算卡须为借记卡',
      bank: '开户银行：{bank}',
      bankUnknown: '未能从卡号识别银行，稍后会在聊天中询问',
      phoneOK: '✓',
      phoneBad: '请输入 11 位大陆手机号',
      sending: '正在提交…',
      sent: '✓ 已提交。请回到聊天继续：卡号在聊天中只显示为掩码。',
      no_launch: '请在 Telegram 中从机器人的聊天里打开此表单。',
      forged: '无法验证此表单来自 Telegram，未提交任何内容。',
      stale: '此表单已过期，未提交任何内容。请关闭后从聊天中重新打开。',
      other_chat: '此表单不属于您与机器人的对话，未提交任何内容。',
      not_at_card: '对话当前不在填写卡号这一步，未提交任何内容。请回到聊天继续。',
      replayed: '此表单已经提交过，不会再次提交。如需修改，请从聊天中重新打开。',
      invalid: '表单内容无法读取，请核对后重试。',
      unavailable: '暂时无法提交，您填写的内容未被发送，请稍后重试。',
      network: '网络连接失败，请稍后重试。',
      insecure: '此页面需要安全连接（https）才能加密卡号，未提交任何内容。'
    },
    en: {
      title: 'Change the settlement card',
      lead: 'The number goes straight to us and never appears in the chat.',
      card: 'New settlement card number',
      holder: 'Card holder',
      holderHint: 'As registered for your merchant account; you may leave it empty and answer in the chat.',
      branch: 'Branch (开户支行)',
      branchHint: 'E.g. 上海张江支行; you may leave it empty and answer in the chat.',
      phone: 'Mobile number the bank has on file',
      phoneHint: '11 digits; you may leave it empty and answer in the chat.',
      submit: 'Submit',
      cardEmpty: '16–19 digits',
      cardShort: '{n} digits so far; a card number has 16–19',
      cardLong: 'A card number has at most 19 digits',
      cardOK: '✓ The number checks out',
      cardLuhnBad: 'The check digit does not match: please check the number',
      cardLuhn62: 'The check digit does not match. Some UnionPay cards are so: you will be asked to confirm in the chat.',
      notDebit: 'This is a credit card; the settlement card must be a debit card',
      bank: 'Bank: {bank}',
      bankUnknown: 'The bank could not be read from the number; the chat will ask for it',
      phoneOK: '✓',
      phoneBad: 'Please type an 11-digit mainland mobile number',
      sending: 'Sending…',
      sent: '✓ Sent. Please go back to the chat: it shows the card masked.',
      no_launch: 'Please open this form from the bot\'s chat in Telegram.',
      forged: 'This form could not be verified as opened from Telegram. Nothing was sent.',
      stale: 'This form has expired. Nothing was sent: close it and open it again from the chat.',
      other_chat: 'This form does not belong to your chat with the bot. Nothing was sent.',
      not_at_card: 'The chat is not at the card question. Nothing was sent: please go on in the chat.',
      replayed: 'This form was sent already and is not sent again. To change it, open it again from the chat.',
      invalid: 'The form could not be read. Please check it and try again.',
      unavailable: 'The form could not be sent just now, and nothing was taken. Please try again shortly.',
      network: 'No connection. Please try again shortly.',
      insecure: 'This page needs a secure (https) connection to encrypt the number. Nothing was sent.'
    }
  };

  var fragment = new URLSearchParams(location.hash.slice(1));
  var query = new URLSearchParams(location.search);
  var tg = window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData ? window.Telegram.WebApp : null;
  var initData = tg ? tg.initData : (fragment.get('tgWebAppData') || '');
  var user = {};
  try { user = JSON.parse(new URLSearchParams(initData).get('user') || '{}') || {}; } catch (e) { user = {}; }
  var code = query.get('lang') || user.language_code || '';
  var lang = code === '' || /^zh/i.test(code) ? 'zh' : 'en';
  var t = T[lang];
  function say(key, args) {
    var s = t[key] || key;
    Object.keys(args || {}).forEach(function (k) { s = s.split('{' + k + '}').join(args[k]); });
    return s;
  }

  var $ = function (id) { return document.getElementById(id); };
  var form = $('form'), card = $('card'), holder = $('holder'), branch = $('branch'), phone = $('phone');
  var submitButton = $('submit'), status = $('status');

  document.documentElement.lang = lang === 'zh' ? 'zh-Hans' : 'en';
  document.title = t.title;
  Array.prototype.forEach.call(document.querySelectorAll('[data-t]'), function (el) {
    el.textContent = t[el.getAttribute('data-t')];
  });

  // ---- Telegram: theme and events, with or without telegram-web-app.js ----

  var bridge = null; // how events reach Telegram; null: not in Telegram
  if (window.TelegramWebviewProxy && window.TelegramWebviewProxy.postEvent) {
    bridge = function (type, data) { window.TelegramWebviewProxy.postEvent(type, JSON.stringify(data || {})); };
  } else if (window.parent !== window) {
    bridge = function (type, data) { window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data || {} }), '*'); };
  }
  var mainPressed = null;
  function onEvent(type, data) {
    if (type === 'main_button_pressed' && mainPressed) mainPressed();
    if (type === 'theme_changed' && data && data.theme_params) theme(data.theme_params);
  }
  window.Telegram = window.Telegram || {};
  window.Telegram.WebView = window.Telegram.WebView || {};
  if (!tg) window.Telegram.WebView.receiveEvent = onEvent;
  window.addEventListener('message', function (e) {
    if (e.source !== window.parent || window.parent === window || typeof e.data !== 'string') return;
    try { var m = JSON.parse(e.data); if (m && m.eventType) onEvent(m.eventType, m.eventData); } catch (err) { /* not ours */ }
  });

  var themeVars = {
    bg_color: '--bg', text_color: '--text', hint_color: '--hint', secondary_bg_color: '--field',
    button_color: '--button', button_text_color: '--button-text', section_separator_color: '--border'
  };
  function theme(p) {
    if (!p) return;
    var root = document.documentElement.style;
    Object.keys(themeVars).forEach(function (k) {
      if (typeof p[k] === 'string' && /^#[0-9a-fA-F]{3,8}$/.test(p[k])) root.setProperty(themeVars[k], p[k]);
    });
    if (!p.section_separator_color && p.hint_color) root.setProperty('--border', p.hint_color);
    if (p.bg_color) {
      var dark = luminance(p.bg_color) < 0.4;
      root.setProperty('color-scheme', dark ? 'dark' : 'light');
      if (dark) { root.setProperty('--ok', '#6fd08c'); root.setProperty('--bad', '#ff8a80'); root.setProperty('--warn', '#ffcc66'); }
    }
  }
  function luminance(hex) {
    var h = hex.replace('#', '');
    if (h.length === 3) h = h[0] + h[0] + h[1] + h[1] + h[2] + h[2];
    var n = parseInt(h.slice(0, 6), 16);
    return (0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
  }
  if (tg) {
    theme(tg.themeParams);
  } else {
    try { theme(JSON.parse(fragment.get('tgWebAppThemeParams') || 'null')); } catch (e) { /* the system's theme */ }
  }

  var main = null; // Telegram's main button, when there is one
  if (tg && tg.MainButton) {
    main = {
      set: function (text, active) { tg.MainButton.setText(text); tg.MainButton.show(); if (active) tg.MainButton.enable(); else tg.MainButton.disable(); },
      hide: function () { tg.MainButton.hide(); }
    };
    tg.MainButton.onClick(function () { if (mainPressed) mainPressed(); });
  } else if (bridge) {
    main = {
      set: function (text, active) {
        bridge('web_app_setup_main_button', { is_visible: true, is_active: !!active, text: text });
      },
      hide: function () { bridge('web_app_setup_main_button', { is_visible: false }); }
    };
  }
  if (main) document.body.classList.add('in-telegram');
  function ready() {
    if (tg) { tg.ready(); tg.expand(); return; }
    if (bridge) { bridge('web_app_ready'); bridge('web_app_expand'); }
  }
  function close() {
    if (tg) { tg.close(); return; }
    if (bridge) bridge('web_app_close');
  }

  // ---- the fields ----

  function asciiDigits(s) {
    return s.replace(/[\uFF10-\uFF19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFF10 + 48); });
  }
  function cardDigits() { return asciiDigits(card.value).replace(/\D/g, ''); }
  function grouped(d) { return d.replace(/(\d{4})(?=\d)/g, '$1 '); }
  function luhn(d) {
    var sum = 0, dbl = false;
    for (var i = d.length - 1; i >= 0; i--) {
      var n = d.charCodeAt(i) - 48;
      if (dbl) { n *= 2; if (n > 9) n -= 9; }
      sum += n; dbl = !dbl;
    }
    return d.length > 0 && sum % 10 === 0;
  }
  function mark(el, text, cls) {
    el.textContent = text;
    el.className = 'check' + (cls ? ' ' + cls : '');
  }

  var bank = { key: '', known: false, debit: true, name: '' };
  var binTimer = null;
  function cardState() {
    var d = cardDigits();
    if (d.length === 0) return { ok: false, text: t.cardEmpty, cls: '' };
    if (d.length > 19) return { ok: false, text: t.cardLong, cls: 'bad' };
    if (d.length < 16) return { ok: false, text: say('cardShort', { n: d.length }), cls: '' };
    if (bank.key === binKey(d) && bank.known && !bank.debit) return { ok: false, text: t.notDebit, cls: 'bad' };
    if (!luhn(d)) {
      if (d.slice(0, 2) === '62') return { ok: true, text: t.cardLuhn62, cls: 'warn' };
      return { ok: false, text: t.cardLuhnBad, cls: 'bad' };
    }
    return { ok: true, text: t.cardOK, cls: 'ok' };
  }
  function binKey(d) { return d.length < 6 ? '' : d.slice(0, Math.min(d.length, 10)) + ':' + (d.length >= 16 ? d.length : 0); }

  function checkCard() {
    var s = cardState();
    mark($('card-check'), s.text, s.cls);
    card.setAttribute('aria-invalid', s.cls === 'bad' ? 'true' : 'false');
    var d = cardDigits();
    var key = binKey(d);
    if (key === '') { bank.key = ''; $('card-bank').textContent = ''; }
    else if (key !== bank.key) { clearTimeout(binTimer); binTimer = setTimeout(function () { lookup(d, key); }, 120); }
    update();
  }
  function lookup(d, key) {
    var length = d.length >= 16 ? d.length : 0;
    api('bin', { bin: d.slice(0, Math.min(d.length, 10)), length: length, lang: lang }).then(function (r) {
      if (binKey(cardDigits()) !== key) return; // typed on meanwhile
      bank = { key: key, known: !!(r.body && r.body.known), debit: !(r.body && r.body.known && !r.body.debit), name: (r.body && r.body.bank) || '' };
      $('card-bank').textContent = !r.ok ? '' : bank.known ? say('bank', { bank: bank.name }) : t.bankUnknown;
      var s = cardState();
      mark($('card-check'), s.text, s.cls);
      update();
    });
  }
  card.addEventListener('input', function () {
    var caret = card.selectionStart || 0;
    var before = asciiDigits(card.value.slice(0, caret)).replace(/\D/g, '').length;
    var d = cardDigits().slice(0, 19);
    card.value = grouped(d);
    var i = 0, seen = 0;
    while (i < card.value.length && seen < before) { if (card.value[i] !== ' ') seen++; i++; }
    if (document.activeElement === card) card.setSelectionRange(i, i);
    checkCard();
  });

  function phoneDigits() { return asciiDigits(phone.value).replace(/[\s\-()]/g, '').replace(/^\+?86/, ''); }
  function phoneState() {
    var p = phoneDigits();
    if (p === '') return { ok: true, text: t.phoneHint, cls: '' };
    if (/^1[3-9]\d{9}$/.test(p)) return { ok: true, text: t.phoneOK, cls: 'ok' };
    return { ok: false, text: t.phoneBad, cls: p.length >= 11 ? 'bad' : '' };
  }
  phone.addEventListener('input', function () {
    var s = phoneState();
    mark($('phone-check'), s.text, s.cls);
    phone.setAttribute('aria-invalid', s.cls === 'bad' ? 'true' : 'false');
    update();
  });

  var sending = false, done = false;
  function valid() { return cardState().ok && phoneState().ok; }
  function update() {
    var active = valid() && !sending && !done;
    submitButton.disabled = !active;
    if (main && !done) main.set(sending ? t.sending : t.submit, active);
  }

  // ---- talking to the server ----

  function api(what, body) {
    body.init_data = initData;
    return fetch('api/' + what, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer'
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (b) { return { ok: res.ok, status: res.status, body: b }; });
    }, function () { return { ok: false, status: 0, body: { error: 'network' } }; });
  }
  function show(text, cls) {
    status.textContent = text;
    status.className = 'status' + (cls ? ' ' + cls : '');
    status.hidden = false;
  }
  function refused(r) {
    var reason = (r.body && r.body.error) || (r.status === 0 ? 'network' : 'unavailable');
    show(t[reason] || t.unavailable, 'bad');
    if (r.status === 401 || r.status === 403 || r.status === 409) { // this launch can do no more
      form.hidden = true;
      if (main) main.hide();
    }
  }

  // seal encrypts the fields to the server's key (serverKey, from the
  // session), bound to this launch.
  var serverKey = '';
  var enc = new TextEncoder();
  function b64(buf) {
    var s = '', b = new Uint8Array(buf);
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function unb64(s) {
    var bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
    var b = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
    return b;
  }
  function seal(fields) {
    var subtle = window.crypto && window.crypto.subtle;
    if (!subtle) return Promise.reject(new Error('insecure'));
    var curve = { name: 'ECDH', namedCurve: 'P-256' };
    return Promise.all([
      subtle.importKey('raw', unb64(serverKey), curve, false, []),
      subtle.generateKey(curve, true, ['deriveBits'])
    ]).then(function (keys) {
      var eph = keys[1];
      return subtle.deriveBits({ name: 'ECDH', public: keys[0] }, eph.privateKey, 256).then(function (bits) {
        return subtle.importKey('raw', bits, 'HKDF', false, ['deriveKey']);
      }).then(function (ikm) {
        return subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: enc.encode('merchantbot card form v1') },
          ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt']);
      }).then(function (aes) {
        var nonce = window.crypto.getRandomValues(new Uint8Array(12));
        return Promise.all([
          subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: enc.encode(initData) }, aes, enc.encode(JSON.stringify(fields))),
          subtle.exportKey('raw', eph.publicKey)
        ]).then(function (out) { return { epk: b64(out[1]), nonce: b64(nonce), data: b64(out[0]) }; });
      });
    });
  }

  function submit() {
    if (!valid() || sending || done) return;
    sending = true;
    update();
    show(t.sending, '');
    seal({ card: cardDigits(), holder: holder.value.trim(), branch: branch.value.trim(), phone: phoneDigits() }).then(function (sealed) {
      return api('submit', { form: sealed });
    }, function () {
      return { ok: false, status: -1, body: { error: 'insecure' } };
    }).then(function (r) {
      sending = false;
      if (!r.ok) { refused(r); update(); return; }
      done = true;
      card.value = '';
      phone.value = '';
      form.hidden = true;
      if (main) main.hide();
      show(t.sent, 'ok');
      setTimeout(close, 1500);
    });
  }
  form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });
  mainPressed = submit;

  if (!initData) {
    show(t.no_launch, 'bad');
    return;
  }
  ready();
  api('session', {}).then(function (r) {
    if (!r.ok) { refused(r); return; }
    if (r.body.holder && holder.value === '') holder.value = r.body.holder;
    serverKey = r.body.key || '';
    form.hidden = false;
    checkCard();
    mark($('phone-check'), t.phoneHint, '');
    card.focus();
  });
})();
