/*
 * The Stripe emulator's Stripe.js stand-in (plain ES2017, no build step).
 *
 * Loaded instead of https://js.stripe.com/v3/, it defines window.Stripe with the
 * calls @stripe/stripe-js and @stripe/react-stripe-js make, and talks to the
 * emulator's /v1 API (the origin and path this file was loaded from, minus
 * /js/v3/) as Stripe.js talks to api.stripe.com: the publishable key as `key`,
 * the client secret in the request, the card as payment_method_data.
 *
 * The card form is plain DOM inputs (no iframe) named as in Stripe's card frame:
 * cardnumber, exp-date, cvc, prefilled with 4242 4242 4242 4242. 3-D Secure opens
 * the emulator's challenge page in an overlay <iframe title="3D Secure challenge">
 * (redirect: 'if_required') or sends the browser there (redirect: 'always').
 * Results have Stripe.js's shapes: {paymentIntent} or {error}.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  var BASE = script && script.src ? script.src.replace(/\/js\/v3\/?(\?.*)?$/, '') : '';

  function IntegrationError(message) {
    var error = new Error(message);
    error.name = 'IntegrationError';
    return error;
  }

  // ------------------------------------------------------------ the API

  function encode(params, prefix, pairs) {
    pairs = pairs || [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      var name = prefix ? prefix + '[' + key + ']' : key;
      if (value === undefined || value === null) return;
      if (typeof value === 'object') encode(value, name, pairs);
      else pairs.push(encodeURIComponent(name) + '=' + encodeURIComponent(String(value)));
    });
    return pairs;
  }

  async function request(key, method, path, params) {
    var body = encode(Object.assign({key: key}, params || {})).join('&');
    var url = BASE + path + (method === 'GET' ? '?' + body : '');
    var init = {method: method, credentials: 'omit'};
    if (method !== 'GET') {
      init.body = body;
      init.headers = {'Content-Type': 'application/x-www-form-urlencoded'};
    }
    var response;
    try {
      response = await fetch(url, init);
    } catch (cause) {
      return {error: {type: 'api_connection_error', message: 'Could not reach the Stripe emulator at ' + BASE + '.'}};
    }
    var json = await response.json();
    return response.ok ? {object: json} : {error: json.error};
  }

  function intentId(clientSecret, prefix, method) {
    var match = typeof clientSecret === 'string' && clientSecret.match(new RegExp('^(' + prefix + '_[^_]+)_secret_.+$'));
    if (!match) {
      throw IntegrationError('Invalid value for ' + method + ': clientSecret should be a client secret of the form ' +
        '${id}_secret_${secret}. You specified: ' + clientSecret + '.');
    }
    return match[1];
  }

  function kindOf(clientSecret) {
    return typeof clientSecret === 'string' && clientSecret.indexOf('seti_') === 0 ? 'setup_intent' : 'payment_intent';
  }

  // ------------------------------------------------------------ elements

  function futureExpiry() {
    var year = (new Date().getFullYear() + 3) % 100;
    return '12 / ' + (year < 10 ? '0' + year : String(year));
  }

  function input(name, label, value, mode) {
    var wrapper = document.createElement('label');
    wrapper.style.display = 'block';
    wrapper.style.margin = '0.4em 0';
    var text = document.createElement('span');
    text.textContent = label;
    text.style.display = 'block';
    var field = document.createElement('input');
    field.name = name;
    field.value = value;
    field.setAttribute('autocomplete', {cardnumber: 'cc-number', 'exp-date': 'cc-exp', cvc: 'cc-csc'}[name]);
    field.setAttribute('inputmode', mode);
    field.setAttribute('aria-label', label);
    wrapper.appendChild(text);
    wrapper.appendChild(field);
    return {wrapper: wrapper, field: field};
  }

  function Element(group, type, options) {
    this._group = group;
    this._type = type;
    this._options = options || {};
    this._handlers = {};
    this._node = null;
    this._root = null;
    this._destroyed = false;
  }

  Element.prototype.mount = function (target) {
    if (this._destroyed) throw IntegrationError('This Element has already been destroyed. Please create a new one.');
    var node = typeof target === 'string' ? document.querySelector(target) : target;
    if (!node) throw IntegrationError('The selector you specified (' + target + ') applies to no DOM elements.');
    var self = this;
    var root = document.createElement('div');
    root.className = 'StripeElement StripeEmulatorElement';
    root.setAttribute('data-element-type', this._type);
    var number = input('cardnumber', 'Card number', '4242 4242 4242 4242', 'numeric');
    var expiry = input('exp-date', 'Expiration date (MM / YY)', futureExpiry(), 'numeric');
    var cvc = input('cvc', 'CVC', '123', 'numeric');
    [number, expiry, cvc].forEach(function (part) {
      root.appendChild(part.wrapper);
      part.field.addEventListener('input', function () { self._emit('change', self._changeEvent()); });
      part.field.addEventListener('focus', function () { self._emit('focus', {elementType: self._type}); });
      part.field.addEventListener('blur', function () { self._emit('blur', {elementType: self._type}); });
    });
    node.appendChild(root);
    this._node = node;
    this._root = root;
    this._fields = {number: number.field, expiry: expiry.field, cvc: cvc.field};
    // Later than the mount, as Stripe's frame loads: a handler attached right after
    // mount() (React's effects, in @stripe/react-stripe-js) still hears it.
    setTimeout(function () {
      if (self._root !== root) return;  // unmounted meanwhile
      self._emit('ready', {elementType: self._type});
      self._emit('change', self._changeEvent());
    }, 50);
  };

  Element.prototype.unmount = function () {
    if (this._root && this._root.parentNode) this._root.parentNode.removeChild(this._root);
    this._root = null;
    this._node = null;
  };

  Element.prototype.destroy = function () {
    this.unmount();
    this._destroyed = true;
    this._group._forget(this);
  };

  Element.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };
  Element.prototype.addEventListener = Element.prototype.on;

  Element.prototype.off = function (event, handler) {
    var list = this._handlers[event] || [];
    this._handlers[event] = handler ? list.filter(function (h) { return h !== handler; }) : [];
    return this;
  };
  Element.prototype.removeEventListener = Element.prototype.off;

  Element.prototype.once = function (event, handler) {
    var self = this;
    var wrapped = function (payload) { self.off(event, wrapped); handler(payload); };
    return this.on(event, wrapped);
  };

  Element.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).slice().forEach(function (handler) { handler(payload); });
  };

  Element.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  Element.prototype.focus = function () { if (this._fields) this._fields.number.focus(); };
  Element.prototype.blur = function () { if (document.activeElement) document.activeElement.blur(); };
  Element.prototype.clear = function () {
    if (!this._fields) return;
    this._fields.number.value = this._fields.expiry.value = this._fields.cvc.value = '';
    this._emit('change', this._changeEvent());
  };
  Element.prototype.collapse = function () { return this; };

  Element.prototype._card = function () {
    if (!this._fields) return null;
    var digits = this._fields.number.value.replace(/\D/g, '');
    var expiry = this._fields.expiry.value.match(/^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/);
    var year = expiry ? parseInt(expiry[2], 10) : NaN;
    return {
      number: digits,
      exp_month: expiry ? parseInt(expiry[1], 10) : NaN,
      exp_year: year < 100 ? 2000 + year : year,
      cvc: this._fields.cvc.value.replace(/\D/g, ''),
    };
  };

  Element.prototype._validationError = function () {
    var card = this._card();
    if (!card) return {type: 'validation_error', code: 'incomplete', message: 'The card form is not mounted.'};
    if (card.number.length < 12) {
      return {type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.'};
    }
    if (!card.exp_month || !card.exp_year) {
      return {type: 'validation_error', code: 'incomplete_expiry', message: "Your card's expiration date is incomplete."};
    }
    if (card.cvc.length < 3) {
      return {type: 'validation_error', code: 'incomplete_cvc', message: "Your card's security code is incomplete."};
    }
    return null;
  };

  Element.prototype._changeEvent = function () {
    var card = this._card() || {number: ''};
    var error = this._validationError();
    var event = {elementType: this._type, empty: card.number.length === 0, complete: !error, error: undefined};
    if (this._type === 'payment') {
      event.collapsed = false;
      event.value = {type: 'card'};
    } else {
      event.brand = /^4/.test(card.number) ? 'visa' : /^5[1-5]/.test(card.number) ? 'mastercard' : 'unknown';
    }
    return event;
  };

  function Elements(stripe, options) {
    options = options || {};
    if (options.clientSecret) intentId(options.clientSecret, kindOf(options.clientSecret) === 'setup_intent' ? 'seti' : 'pi', 'elements()');
    this._stripe = stripe;
    this._options = Object.assign({}, options);
    this._elements = [];
  }

  Elements.prototype.create = function (type, options) {
    if (['payment', 'card'].indexOf(type) < 0) {
      throw IntegrationError('The Stripe emulator\'s Stripe.js creates "payment" and "card" Elements only, not "' + type + '".');
    }
    if (this.getElement(type)) throw IntegrationError('Can only create one Element of type ' + type + '.');
    var element = new Element(this, type, options);
    this._elements.push(element);
    return element;
  };

  Elements.prototype.getElement = function (type) {
    return this._elements.filter(function (e) { return e._type === type; })[0] || null;
  };

  Elements.prototype._forget = function (element) {
    this._elements = this._elements.filter(function (e) { return e !== element; });
  };

  Elements.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  Elements.prototype.fetchUpdates = async function () { return {}; };

  Elements.prototype.submit = async function () {
    var element = this.getElement('payment') || this.getElement('card');
    if (!element) throw IntegrationError('elements.submit(): no Payment Element was created.');
    var error = element._validationError();
    if (error) {
      element._emit('change', element._changeEvent());
      return {error: error};
    }
    return {};
  };

  Elements.prototype._card = function () {
    var element = this.getElement('payment') || this.getElement('card');
    return element ? element._card() : null;
  };

  // ---------------------------------------------------------- 3-D Secure

  function challengeUrl(intent) {
    var action = intent.next_action || {};
    if (action.redirect_to_url) return action.redirect_to_url.url;
    if (action.use_stripe_sdk) return action.use_stripe_sdk.stripe_js;
    return null;
  }

  // The challenge page in an overlay; resolves once the customer chose.
  function challenge(url) {
    return new Promise(function (resolve) {
      var overlay = document.createElement('div');
      overlay.setAttribute('data-stripe-emulator', '3ds');
      overlay.style.cssText = 'position:fixed;inset:0;background:rgba(0,0,0,.5);z-index:2147483647;' +
        'display:flex;align-items:center;justify-content:center';
      var frame = document.createElement('iframe');
      frame.title = '3D Secure challenge';
      frame.src = url + (url.indexOf('?') < 0 ? '?' : '&') + 'embedded=1';
      frame.style.cssText = 'width:min(500px,95vw);height:min(600px,90vh);border:0;background:#fff;border-radius:8px';
      var listener = function (event) {
        if (event.source !== frame.contentWindow || !event.data || event.data.type !== 'stripe-emulator:3ds-complete') return;
        window.removeEventListener('message', listener);
        overlay.parentNode.removeChild(overlay);
        resolve();
      };
      window.addEventListener('message', listener);
      overlay.appendChild(frame);
      document.body.appendChild(overlay);
    });
  }

  function withQuery(url, params) {
    var target = new URL(url, window.location.href);
    Object.keys(params).forEach(function (key) { target.searchParams.set(key, params[key]); });
    return target.toString();
  }

  var REDIRECT_STATUS = {succeeded: 'succeeded', processing: 'processing'};
  var NEVER = new Promise(function () {});  // what a call resolves to while the browser leaves the page

  // ---------------------------------------------------------------- Stripe

  function Stripe(key, options) {
    if (!(this instanceof Stripe)) return new Stripe(key, options);
    if (typeof key !== 'string' || !key) {
      throw IntegrationError('Please call Stripe() with your publishable key. You used an empty string.');
    }
    if (/^sk_/.test(key)) {
      throw IntegrationError('You should not use your secret key with Stripe.js. Please pass a publishable key instead.');
    }
    this._key = key;
    this._options = options || {};
  }

  Stripe.version = 'endive';  // the release train @stripe/stripe-js expects

  Stripe.prototype._registerWrapper = function () {};
  Stripe.prototype.registerAppInfo = function () {};

  Stripe.prototype.elements = function (options) { return new Elements(this, options); };

  Stripe.prototype._api = function (method, path, params) { return request(this._key, method, path, params); };

  Stripe.prototype._retrieve = async function (clientSecret) {
    var kind = kindOf(clientSecret);
    var id = intentId(clientSecret, kind === 'setup_intent' ? 'seti' : 'pi', 'retrieve');
    return this._api('GET', '/v1/' + kind + 's/' + id, {client_secret: clientSecret});
  };

  Stripe.prototype.retrievePaymentIntent = async function (clientSecret) {
    intentId(clientSecret, 'pi', 'stripe.retrievePaymentIntent intent secret');
    var result = await this._retrieve(clientSecret);
    return result.error ? {error: result.error} : {paymentIntent: result.object};
  };

  Stripe.prototype.retrieveSetupIntent = async function (clientSecret) {
    intentId(clientSecret, 'seti', 'stripe.retrieveSetupIntent intent secret');
    var result = await this._retrieve(clientSecret);
    return result.error ? {error: result.error} : {setupIntent: result.object};
  };

  // {paymentIntent} / {setupIntent}, or {error} carrying the intent, as Stripe.js answers.
  function outcome(kind, intent) {
    var name = kind === 'setup_intent' ? 'setupIntent' : 'paymentIntent';
    var failure = kind === 'setup_intent' ? intent.last_setup_error : intent.last_payment_error;
    var result = {};
    if (intent.status === 'requires_payment_method' && failure) {
      var error = Object.assign({}, failure);
      error[kind] = intent;
      result.error = error;
    } else {
      result[name] = intent;
    }
    return result;
  }

  // After a confirm: 3-D Secure if asked for, then the result or the return_url.
  Stripe.prototype._settle = async function (kind, intent, redirect, returnUrl) {
    var url = intent.status === 'requires_action' ? challengeUrl(intent) : null;
    if (url && redirect === 'always') {
      window.location.assign(url);
      return NEVER;
    }
    if (url) {
      await challenge(url);
      var again = await this._retrieve(intent.client_secret);
      if (again.error) return {error: again.error};
      intent = again.object;
    }
    if (redirect === 'always' && returnUrl) {
      var params = kind === 'setup_intent'
        ? {setup_intent: intent.id, setup_intent_client_secret: intent.client_secret}
        : {payment_intent: intent.id, payment_intent_client_secret: intent.client_secret};
      params.redirect_status = REDIRECT_STATUS[intent.status] || 'failed';
      window.location.assign(withQuery(returnUrl, params));
      return NEVER;
    }
    return outcome(kind, intent);
  };

  Stripe.prototype._confirm = async function (kind, clientSecret, paymentMethod, confirmParams, redirect) {
    var id = intentId(clientSecret, kind === 'setup_intent' ? 'seti' : 'pi', 'confirm');
    var params = Object.assign({}, confirmParams || {});
    params.client_secret = clientSecret;
    if (paymentMethod && paymentMethod.card) {
      params.payment_method_data = {type: 'card', card: paymentMethod.card};
    } else if (paymentMethod && paymentMethod.id) {
      params.payment_method = paymentMethod.id;
    }
    var confirmed = await this._api('POST', '/v1/' + kind + 's/' + id + '/confirm', params);
    if (confirmed.error) return {error: confirmed.error};
    return this._settle(kind, confirmed.object, redirect, params.return_url);
  };

  function fromElements(elements, method) {
    if (!elements || typeof elements._card !== 'function') return null;
    var card = elements._card();
    if (!card) throw IntegrationError(method + ': the Payment Element is not mounted.');
    return {card: card};
  }

  function checkRedirect(method, redirect, confirmParams) {
    redirect = redirect || 'always';
    if (redirect !== 'always' && redirect !== 'if_required') {
      throw IntegrationError('Invalid value for ' + method + ': redirect should be one of always, if_required.');
    }
    if (redirect === 'always' && !(confirmParams && confirmParams.return_url)) {
      throw IntegrationError(method + '(): the `confirmParams.return_url` argument is required unless passing `redirect: \'if_required\'`');
    }
    return redirect;
  }

  async function elementsError(elements) {
    var element = elements && (elements.getElement('payment') || elements.getElement('card'));
    var error = element ? element._validationError() : null;
    return error ? {error: error} : null;
  }

  Stripe.prototype.confirmPayment = async function (options) {
    options = options || {};
    var elements = options.elements;
    var clientSecret = options.clientSecret || (elements && elements._options.clientSecret);
    if (!clientSecret) throw IntegrationError('stripe.confirmPayment(): the `clientSecret` argument is required.');
    var redirect = checkRedirect('stripe.confirmPayment', options.redirect, options.confirmParams);
    var invalid = await elementsError(elements);
    if (invalid) return invalid;
    var confirmParams = Object.assign({}, options.confirmParams || {});
    var method = confirmParams.payment_method ? {id: confirmParams.payment_method} : fromElements(elements, 'stripe.confirmPayment');
    delete confirmParams.payment_method;
    return this._confirm('payment_intent', clientSecret, method, confirmParams, redirect);
  };

  Stripe.prototype.confirmSetup = async function (options) {
    options = options || {};
    var elements = options.elements;
    var clientSecret = options.clientSecret || (elements && elements._options.clientSecret);
    if (!clientSecret) throw IntegrationError('stripe.confirmSetup(): the `clientSecret` argument is required.');
    var redirect = checkRedirect('stripe.confirmSetup', options.redirect, options.confirmParams);
    var invalid = await elementsError(elements);
    if (invalid) return invalid;
    var confirmParams = Object.assign({}, options.confirmParams || {});
    var method = confirmParams.payment_method ? {id: confirmParams.payment_method} : fromElements(elements, 'stripe.confirmSetup');
    delete confirmParams.payment_method;
    return this._confirm('setup_intent', clientSecret, method, confirmParams, redirect);
  };

  function cardMethod(data, method) {
    var pm = data && data.payment_method;
    if (typeof pm === 'string') return {id: pm};
    if (pm && pm.card && typeof pm.card._card === 'function') {
      var card = pm.card._card();
      if (!card) throw IntegrationError(method + ': the card Element is not mounted.');
      return {card: card};
    }
    return null;  // the intent's own payment method
  }

  Stripe.prototype.confirmCardPayment = async function (clientSecret, data, options) {
    intentId(clientSecret, 'pi', 'stripe.confirmCardPayment intent secret');
    var params = Object.assign({}, data || {});
    var method = cardMethod(params, 'stripe.confirmCardPayment');
    delete params.payment_method;
    var redirect = options && options.handleActions === false ? 'never' : 'if_required';
    if (redirect === 'never') {
      var id = intentId(clientSecret, 'pi', 'confirm');
      var body = Object.assign(params, {client_secret: clientSecret});
      if (method && method.card) body.payment_method_data = {type: 'card', card: method.card};
      if (method && method.id) body.payment_method = method.id;
      var confirmed = await this._api('POST', '/v1/payment_intents/' + id + '/confirm', body);
      return confirmed.error ? {error: confirmed.error} : {paymentIntent: confirmed.object};
    }
    return this._confirm('payment_intent', clientSecret, method, params, 'if_required');
  };

  Stripe.prototype.confirmCardSetup = async function (clientSecret, data) {
    intentId(clientSecret, 'seti', 'stripe.confirmCardSetup intent secret');
    var params = Object.assign({}, data || {});
    var method = cardMethod(params, 'stripe.confirmCardSetup');
    delete params.payment_method;
    return this._confirm('setup_intent', clientSecret, method, params, 'if_required');
  };

  Stripe.prototype.handleNextAction = async function (options) {
    var clientSecret = options && options.clientSecret;
    var kind = kindOf(clientSecret);
    intentId(clientSecret, kind === 'setup_intent' ? 'seti' : 'pi', 'stripe.handleNextAction');
    var current = await this._retrieve(clientSecret);
    if (current.error) return {error: current.error};
    return this._settle(kind, current.object, 'if_required', null);
  };

  Stripe.prototype.handleCardAction = function (clientSecret) {
    return this.handleNextAction({clientSecret: clientSecret});
  };

  Stripe.prototype.createPaymentMethod = async function (options) {
    options = options || {};
    var card = options.elements ? fromElements(options.elements, 'stripe.createPaymentMethod')
      : options.card && typeof options.card._card === 'function' ? {card: options.card._card()} : null;
    if (!card) throw IntegrationError('stripe.createPaymentMethod(): pass `elements` or a card Element.');
    var created = await this._api('POST', '/v1/payment_methods', {type: 'card', card: card.card});
    return created.error ? {error: created.error} : {paymentMethod: created.object};
  };

  function notEmulated(name) {
    return function () {
      throw IntegrationError('stripe.' + name + '() is not emulated: use Stripe test keys (the real Stripe.js) for it.');
    };
  }
  ['initCheckout', 'initEmbeddedCheckout', 'redirectToCheckout', 'paymentRequest', 'createToken', 'createSource',
    'confirmCardPaymentWithWallet', 'verifyMicrodepositsForPayment', 'collectBankAccountForPayment'].forEach(function (name) {
    Stripe.prototype[name] = notEmulated(name);
  });

  window.Stripe = Stripe;
})();
