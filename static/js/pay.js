// Card payment (templates/web/care/pay.html and authenticate.html, web/card_payment.py).
// The card element is Stripe.js's: confirmCardSetup sends the card to Stripe and returns a PaymentMethod
// id; only that id is posted to our server, which charges it. Works with Stripe's Stripe.js and with
// localstripe's copy (which reads the card in confirmCardSetup but not in confirmCardPayment).
(function () {
  "use strict";

  function say(text) {
    var status = document.getElementById("payment-status");
    if (status) { status.textContent = text; }
  }

  function showError(text) {
    var box = document.getElementById("payment-error");
    box.textContent = text;
    box.hidden = false;
    box.focus();
  }

  var form = document.getElementById("card-form");
  if (form) {
    var stripe = Stripe(form.dataset.publishableKey);
    var card = stripe.elements().create("card");
    card.mount("#card-element");
    var button = document.getElementById("pay-button");
    document.getElementById("payment-error").tabIndex = -1;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      say("Checking your card…");
      stripe.confirmCardSetup(form.dataset.clientSecret, { payment_method: { card: card } }).then(function (result) {
        if (result.error) {
          button.disabled = false;
          say("");
          showError(result.error.message || "Your card could not be used. Check the details or try another card.");
          return;
        }
        say("Paying…");
        form.elements.payment_method.value = result.setupIntent.payment_method;
        form.submit();
      });
    });
  }

  var auth = document.getElementById("authenticate");
  if (auth) {
    var stripe3ds = Stripe(auth.dataset.publishableKey);
    stripe3ds.confirmCardPayment(auth.dataset.clientSecret).then(function () {
      window.location.assign(auth.dataset.doneUrl);
    });
  }
})();
