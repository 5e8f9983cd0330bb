/*
 * A stand-in for the Outlook host: the part of Office.js the Lifeboat pane uses, loaded in tests in
 * place of office.js (see index.ts: Playwright answers /addin/office-js/office.js with this file).
 *
 * Configured by window.__LIFEBOAT_OFFICE_STANDIN__ (set before the page's scripts run):
 *   { hostName, platform, accountType, hostVersion, emailAddress, displayName,
 *     requirements: { Mailbox: '1.5', NestedAppAuth: null }, item: { itemId, itemType, subject } | null,
 *     outsideOutlook: true (a plain browser tab: onReady reports no host, no mailbox) }
 * Records every notificationMessages call in window.__officeStandIn.calls and keeps each item's
 * messages, enforcing Outlook's rules (5 per item, unique keys, 150 characters, informational
 * messages need an icon and `persistent`), so tests can assert banners.
 * Like Office.js, it sets history.pushState and history.replaceState to null.
 *
 * Compose mode: item: { compose: true, to: [...], cc, bcc (addresses or {emailAddress, displayName}),
 * subject, body (HTML), attachments: [{ name, contentType, content (base64), isInline, attachmentType }] }
 * gives a message being composed: to/cc/bcc/subject/body getAsync + setAsync, getAttachmentsAsync and
 * getAttachmentContentAsync (Mailbox 1.8), close() and closeAsync({discardItem}) (Mailbox 1.14).
 * window.__officeStandIn.compose() reads the draft's current state (and whether it was closed or
 * discarded). Office.actions.associate records event handlers; __officeStandIn.fireSend() raises
 * OnMessageSend like Outlook does and resolves with what the handler passed to event.completed
 * (or {timedOut: true}: with SendMode SoftBlock Outlook would then send).
 */
(function () {
  'use strict';
  var config = window.__LIFEBOAT_OFFICE_STANDIN__ || {};
  var Succeeded = 'succeeded';
  var Failed = 'failed';
  var calls = [];
  var messagesByItem = {};
  var itemChangedHandler = null;
  var actions = {};

  function later(fn) {
    setTimeout(fn, 0);
  }
  function result(status, value, error, asyncContext) {
    return { status: status, value: value, error: error || null, asyncContext: asyncContext };
  }
  function versionAtLeast(have, want) {
    var a = String(have).split('.').map(Number);
    var b = String(want).split('.').map(Number);
    for (var i = 0; i < Math.max(a.length, b.length); i++) {
      var x = a[i] || 0;
      var y = b[i] || 0;
      if (x !== y) return x > y;
    }
    return true;
  }
  function argsOf(args) {
    // (…, options?, callback?) like Office.js
    var list = Array.prototype.slice.call(args);
    var callback = typeof list[list.length - 1] === 'function' ? list.pop() : null;
    return { list: list, callback: callback };
  }
  function validate(details) {
    if (!details || typeof details.message !== 'string') return 'message is required';
    if (details.message.length > 150) return 'message is longer than 150 characters';
    if (details.type === 'informationalMessage') {
      if (!details.icon) return 'informational messages need an icon';
      if (typeof details.persistent !== 'boolean') return 'informational messages need persistent';
    }
    return null;
  }

  function recipientList(list) {
    return (list || []).map(function (r) {
      return typeof r === 'string' ? { emailAddress: r, displayName: r, recipientType: 'externalUser' } : Object.assign({ recipientType: 'externalUser' }, r);
    });
  }

  function makeCompose(base, spec, finish) {
    var state = {
      to: recipientList(spec.to),
      cc: recipientList(spec.cc),
      bcc: recipientList(spec.bcc),
      subject: spec.subject || '',
      body: spec.body || '',
      attachments: (spec.attachments || []).map(function (a, i) {
        return Object.assign({ id: 'att-' + (i + 1), isInline: false, attachmentType: 'file', contentType: 'application/octet-stream' }, a);
      }),
      closed: false,
      discarded: false,
    };
    composeStates[base.itemId] = state;
    function guard(method, args, cb) {
      if (state.closed) {
        finish(cb, method, args, 'the item is closed');
        return true;
      }
      return false;
    }
    function recipients(field) {
      return {
        getAsync: function () {
          var a = argsOf(arguments);
          if (guard(field + '.getAsync', [], a.callback)) return;
          finish(
            a.callback,
            field + '.getAsync',
            [],
            null,
            state[field].map(function (r) {
              return Object.assign({}, r);
            }),
          );
        },
        setAsync: function (list) {
          var a = argsOf(arguments);
          if (guard(field + '.setAsync', [list], a.callback)) return;
          state[field] = recipientList(list);
          finish(a.callback, field + '.setAsync', [list], null);
        },
        addAsync: function (list) {
          var a = argsOf(arguments);
          if (guard(field + '.addAsync', [list], a.callback)) return;
          state[field] = state[field].concat(recipientList(list));
          finish(a.callback, field + '.addAsync', [list], null);
        },
      };
    }
    base.to = recipients('to');
    base.cc = recipients('cc');
    base.bcc = recipients('bcc');
    base.subject = {
      getAsync: function () {
        var a = argsOf(arguments);
        if (guard('subject.getAsync', [], a.callback)) return;
        finish(a.callback, 'subject.getAsync', [], null, state.subject);
      },
      setAsync: function (value) {
        var a = argsOf(arguments);
        if (guard('subject.setAsync', [value], a.callback)) return;
        state.subject = String(value);
        finish(a.callback, 'subject.setAsync', [value], null);
      },
    };
    base.body = {
      getAsync: function (coercionType) {
        var a = argsOf(arguments);
        if (guard('body.getAsync', [coercionType], a.callback)) return;
        var value = coercionType === 'html' ? state.body : state.body.replace(/<[^>]*>/g, '');
        finish(a.callback, 'body.getAsync', [coercionType], coercionType === 'html' || coercionType === 'text' ? null : 'unknown coercion type', value);
      },
      setAsync: function (data) {
        var a = argsOf(arguments);
        if (guard('body.setAsync', [data], a.callback)) return;
        state.body = String(data);
        finish(a.callback, 'body.setAsync', [data], null);
      },
    };
    if (versionAtLeast(requirements.Mailbox || '1.1', '1.8')) {
      base.getAttachmentsAsync = function () {
        var a = argsOf(arguments);
        if (guard('getAttachmentsAsync', [], a.callback)) return;
        finish(
          a.callback,
          'getAttachmentsAsync',
          [],
          null,
          state.attachments.map(function (x) {
            return {
              id: x.id,
              name: x.name,
              contentType: x.contentType,
              size: Math.floor(((x.content || '').length * 3) / 4),
              attachmentType: x.attachmentType,
              isInline: x.isInline,
            };
          }),
        );
      };
      base.getAttachmentContentAsync = function (id) {
        var a = argsOf(arguments);
        if (guard('getAttachmentContentAsync', [id], a.callback)) return;
        var found = state.attachments.filter(function (x) {
          return x.id === id;
        })[0];
        if (!found) return finish(a.callback, 'getAttachmentContentAsync', [id], 'no attachment with that id');
        var value =
          found.attachmentType === 'cloud'
            ? { format: 'url', content: found.url || 'https://files.example/' + found.name }
            : { format: 'base64', content: found.content || '' };
        finish(a.callback, 'getAttachmentContentAsync', [id], null, value);
      };
    }
    base.close = function () {
      calls.push({ itemId: base.itemId, method: 'close', args: [], outcome: 'succeeded' });
      state.closed = true;
    };
    if (versionAtLeast(requirements.Mailbox || '1.1', '1.14')) {
      base.closeAsync = function (options) {
        var a = argsOf(arguments);
        var discard = options && typeof options === 'object' && options.discardItem === true;
        if (guard('closeAsync', [options], a.callback)) return;
        state.closed = true;
        state.discarded = discard;
        finish(a.callback, 'closeAsync', [options || null], null);
      };
    }
    return base;
  }

  function makeItem(spec) {
    if (!spec) return null;
    var itemId = spec.itemId || 'item-1';
    messagesByItem[itemId] = messagesByItem[itemId] || [];
    var store = messagesByItem[itemId];
    function record(method, args, outcome) {
      calls.push({ itemId: itemId, method: method, args: JSON.parse(JSON.stringify(args)), outcome: outcome });
    }
    function finish(callback, method, args, error, value) {
      record(method, args, error ? 'failed: ' + error : 'succeeded');
      if (callback)
        later(function () {
          callback(error ? result(Failed, undefined, { code: 9000, name: 'Error', message: error }) : result(Succeeded, value));
        });
    }
    function indexOf(key) {
      for (var i = 0; i < store.length; i++) if (store[i].key === key) return i;
      return -1;
    }
    var item = {
      itemId: itemId,
      itemType: spec.itemType || 'message',
      subject: spec.subject || '',
      notificationMessages: {
        addAsync: function (key, details) {
          var a = argsOf(arguments);
          var error =
            validate(details) || (indexOf(key) >= 0 ? 'key already exists' : null) || (store.length >= 5 ? 'there are already 5 notifications' : null);
          if (!error) store.push(Object.assign({ key: key }, details));
          finish(a.callback, 'addAsync', [key, details], error);
        },
        replaceAsync: function (key, details) {
          var a = argsOf(arguments);
          var i = indexOf(key);
          var error = validate(details) || (i < 0 && store.length >= 5 ? 'there are already 5 notifications' : null);
          if (!error) {
            if (i >= 0) store[i] = Object.assign({ key: key }, details);
            else store.push(Object.assign({ key: key }, details));
          }
          finish(a.callback, 'replaceAsync', [key, details], error);
        },
        removeAsync: function (key) {
          var a = argsOf(arguments);
          var i = indexOf(key);
          if (i >= 0) store.splice(i, 1);
          finish(a.callback, 'removeAsync', [key], i >= 0 ? null : 'no notification with that key');
        },
        getAllAsync: function () {
          var a = argsOf(arguments);
          finish(
            a.callback,
            'getAllAsync',
            [],
            null,
            store.map(function (m) {
              return Object.assign({}, m);
            }),
          );
        },
      },
    };
    return spec.compose ? makeCompose(item, spec, finish) : item;
  }

  var composeStates = {};
  var requirements = Object.assign({ Mailbox: '1.5' }, config.requirements || {});
  var userProfile = { emailAddress: config.emailAddress || 'ada@contoso.test', displayName: config.displayName || 'Ada Park', timeZone: 'UTC' };
  if (config.accountType !== null && requirements.Mailbox && versionAtLeast(requirements.Mailbox, '1.6')) {
    userProfile.accountType = config.accountType || 'office365';
  }

  var mailbox = {
    diagnostics: {
      hostName: config.hostName === undefined ? 'Outlook' : config.hostName,
      hostVersion: config.hostVersion || '16.0.17928.20114',
      OWAView: undefined,
    },
    userProfile: userProfile,
    item: makeItem(config.item === undefined ? { itemId: 'item-1', subject: 'Quarterly numbers' } : config.item),
    addHandlerAsync: function (eventType, handler) {
      var a = argsOf(arguments);
      if (eventType === 'olkItemSelectedChanged') itemChangedHandler = handler;
      calls.push({ method: 'addHandlerAsync', args: [eventType] });
      if (a.callback && a.callback !== handler)
        later(function () {
          a.callback(result(Succeeded));
        });
    },
    removeHandlerAsync: function (eventType) {
      var a = argsOf(arguments);
      if (eventType === 'olkItemSelectedChanged') itemChangedHandler = null;
      if (a.callback)
        later(function () {
          a.callback(result(Succeeded));
        });
    },
  };

  var platform = config.platform === undefined ? 'PC' : config.platform;
  // outsideOutlook: office.js loaded in a plain browser tab (no host, no mailbox).
  var outside = config.outsideOutlook === true;
  var context = {
    mailbox: outside ? undefined : mailbox,
    diagnostics: { platform: platform, version: config.hostVersion || '16.0.17928.20114', host: 'Outlook' },
    requirements: {
      isSetSupported: function (name, minVersion) {
        if (outside) return false;
        var have = requirements[name];
        if (!have) return false;
        return versionAtLeast(have, minVersion || '1.1');
      },
    },
    displayLanguage: 'en-US',
  };

  window.Office = {
    context: context,
    onReady: function (callback) {
      var info = outside ? { host: null, platform: null } : { host: 'Outlook', platform: platform };
      return new Promise(function (resolve) {
        later(function () {
          if (typeof window.Office.initialize === 'function') window.Office.initialize('');
          if (callback) callback(info);
          resolve(info);
        });
      });
    },
    initialize: null,
    HostType: { Outlook: 'Outlook' },
    PlatformType: { PC: 'PC', OfficeOnline: 'OfficeOnline', Mac: 'Mac', iOS: 'iOS', Android: 'Android', Universal: 'Universal' },
    AsyncResultStatus: { Succeeded: Succeeded, Failed: Failed },
    EventType: { ItemChanged: 'olkItemSelectedChanged' },
    CoercionType: { Html: 'html', Text: 'text' },
    actions: {
      associate: function (name, fn) {
        actions[name] = fn;
        calls.push({ method: 'actions.associate', args: [name] });
      },
    },
    MailboxEnums: {
      ItemNotificationMessageType: {
        ProgressIndicator: 'progressIndicator',
        InformationalMessage: 'informationalMessage',
        ErrorMessage: 'errorMessage',
        InsightMessage: 'insightMessage',
      },
      ItemType: { Message: 'message', Appointment: 'appointment' },
      AttachmentType: { File: 'file', Item: 'item', Cloud: 'cloud' },
      AttachmentContentFormat: { Base64: 'base64', Url: 'url', Eml: 'eml', ICalendar: 'iCalendar' },
      SendModeOverride: { PromptUser: 'promptUser' },
    },
  };

  // Office.js does this too: add-ins cannot use the History API inside Outlook.
  window.history.pushState = null;
  window.history.replaceState = null;

  window.__officeStandIn = {
    calls: calls,
    /** The notifications currently on an item (default: the current item). */
    messages: function (itemId) {
      var id = itemId || (mailbox.item && mailbox.item.itemId);
      return (messagesByItem[id] || []).map(function (m) {
        return Object.assign({}, m);
      });
    },
    /** Simulates the user selecting another item while the pane is pinned. */
    selectItem: function (spec) {
      mailbox.item = makeItem(spec);
      if (itemChangedHandler) itemChangedHandler({ type: 'olkItemSelectedChanged' });
    },
    /** The draft's current state (compose items): recipients, subject, body, attachments, closed/discarded. */
    compose: function (itemId) {
      var id = itemId || (mailbox.item && mailbox.item.itemId);
      var st = composeStates[id];
      return st ? JSON.parse(JSON.stringify(st)) : null;
    },
    /** The handler names registered with Office.actions.associate. */
    actions: function () {
      return Object.keys(actions);
    },
    /**
     * Outlook's OnMessageSend: calls the handler named in the manifest with a MailboxEvent and
     * resolves with the options it completed with, or {timedOut: true} when it never completes.
     */
    fireSend: function (name, timeoutMs) {
      var handler = actions[name || 'onMessageSendHandler'];
      if (!handler) return Promise.resolve({ noHandler: true });
      return new Promise(function (resolve) {
        var done = false;
        var timer = setTimeout(function () {
          if (!done) {
            done = true;
            resolve({ timedOut: true });
          }
        }, timeoutMs || 10000);
        var event = {
          type: 'olkMessageSend',
          completed: function (options) {
            if (done) return;
            done = true;
            clearTimeout(timer);
            calls.push({ method: 'event.completed', args: [options || null] });
            resolve(JSON.parse(JSON.stringify(options || {})));
          },
        };
        try {
          handler(event);
        } catch (err) {
          if (!done) {
            done = true;
            clearTimeout(timer);
            resolve({ threw: String((err && err.message) || err) });
          }
        }
      });
    },
    /** Pre-fills an item's notifications (e.g. other notifications Outlook already shows). */
    seedMessages: function (itemId, list) {
      messagesByItem[itemId] = list.slice();
      if (mailbox.item && mailbox.item.itemId === itemId)
        mailbox.item = makeItem({ itemId: itemId, itemType: mailbox.item.itemType, subject: mailbox.item.subject });
    },
  };
})();
