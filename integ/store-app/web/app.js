// Store front: lists products, places orders. No build step; DOM built with textContent only.
'use strict';

(function () {
  const grid = document.getElementById('products');
  const status = document.getElementById('products-status');
  const form = document.getElementById('order-form');
  const select = document.getElementById('product');
  const quantity = document.getElementById('quantity');
  const email = document.getElementById('email');
  const submit = document.getElementById('submit');
  const confirmation = document.getElementById('order-confirmation');
  const errorBox = document.getElementById('order-error');
  let products = [];

  function money(cents) {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(cents / 100);
  }

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.entries(props || {}).forEach(function ([key, value]) {
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else node.setAttribute(key, value);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function renderProducts() {
    grid.replaceChildren();
    products.forEach(function (p) {
      const choose = el('button', { 'type': 'button', 'class': 'choose', 'data-testid': 'choose-' + p.id }, [
        document.createTextNode('Choose '),
        el('span', { class: 'visually-hidden', text: p.name }),
      ]);
      choose.addEventListener('click', function () {
        select.value = p.id;
        quantity.focus();
      });
      const img = el('img', { src: p.imageUrl, alt: p.name, width: '240', height: '240', decoding: 'async' });
      const stockText = p.stock > 0 ? p.stock + ' in stock' : 'Sold out';
      grid.appendChild(el('li', { 'class': 'card', 'data-testid': 'product-card', 'data-product-id': p.id }, [
        img,
        el('h3', { text: p.name }),
        el('p', { class: 'description', text: p.description }),
        el('p', { class: 'price', text: money(p.price) }),
        el('p', { 'class': 'stock', 'data-testid': 'stock-' + p.id, 'text': stockText }),
        choose,
      ]));
    });

    const selected = select.value;
    select.replaceChildren();
    products.forEach(function (p) {
      select.appendChild(el('option', { value: p.id, text: p.name + ' (' + money(p.price) + ')' }));
    });
    if (selected) select.value = selected;
  }

  async function loadProducts() {
    try {
      const res = await fetch('/api/products', { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      products = (await res.json()).products;
      renderProducts();
      status.textContent = products.length + ' products';
    } catch (err) {
      status.textContent = 'Products could not be loaded. Please reload the page.';
    }
  }

  function showConfirmation(order) {
    const product = products.find(function (p) { return p.id === order.productId; });
    confirmation.replaceChildren(
      el('h3', { text: 'Thank you for your order' }),
      el('p', {}, [
        document.createTextNode('Order number '),
        el('strong', { 'data-testid': 'order-id', 'text': order.id }),
      ]),
      el('p', {
        text: order.quantity + ' × ' + (product ? product.name : order.productId) + ', total ' + money(order.total) +
          '. Confirmation sent to ' + order.email + '.',
      }),
    );
  }

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    errorBox.textContent = '';
    confirmation.replaceChildren();
    if (!form.reportValidity()) return;
    submit.disabled = true;
    try {
      const res = await fetch('/api/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'accept': 'application/json' },
        body: JSON.stringify({ productId: select.value, quantity: Number(quantity.value), email: email.value.trim() }),
      });
      const body = await res.json().catch(function () { return {}; });
      if (res.status !== 201) {
        errorBox.textContent = 'The order was not placed: ' + (body.error || 'HTTP ' + res.status) + '.';
        return;
      }
      showConfirmation(body);
      await loadProducts();
    } catch (err) {
      errorBox.textContent = 'The order was not placed: the store could not be reached.';
    } finally {
      submit.disabled = false;
    }
  });

  loadProducts();
})();
