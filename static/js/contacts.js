// The contacts tab: "select all on this page", the selected count, the confirm dialog, and
// what a row's own action did.
// Everything here is an extra: without it the same forms and links work as plain HTML.
(function () {
  "use strict";

  var opener = null;

  // The page's poller (sync/_live.html): its requests and swaps are not the person's, so
  // they never move focus, nor change where it goes back to.
  function isPoller(elt) {
    return Boolean(elt && elt.id === "live-updates");
  }

  function region() {
    return document.getElementById("contacts-region") || document.getElementById("transactions-region");
  }

  function rowBoxes() {
    var root = region();
    return root ? Array.from(root.querySelectorAll('input[name="contact"], input[name="transaction"]')) : [];
  }

  function showCount() {
    var root = region();
    if (!root) return;
    var boxes = rowBoxes();
    var checked = boxes.filter(function (box) { return box.checked; }).length;
    var count = root.querySelector("[data-selected-count]");
    var matching = root.querySelector("[data-select-matching]");
    if (count) {
      count.hidden = false;
      count.textContent = matching && matching.checked
        ? "All " + matching.dataset.count + " matching selected"
        : checked + " selected";
    }
    var all = root.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    var matching = region() && region().querySelector("[data-select-matching]");
    if (box.matches("[data-select-all]") || box.matches("[data-select-matching]")) {
      rowBoxes().forEach(function (row) { if (!row.disabled) row.checked = box.checked; });
    }
    // "All N matching" goes with every row of the page ticked: unticking one, or the page's
    // box, narrows the selection back to the ticked rows.
    var rowOrPage = box.matches('[data-select-all], input[name="contact"], input[name="transaction"]');
    if (matching && rowOrPage && !box.checked) matching.checked = false;
    if (box.matches('[data-select-all], [data-select-matching], input[name="contact"], input[name="transaction"]')) showCount();
  });

  document.addEventListener("htmx:afterSwap", showCount);

  // The confirm fragment lands in the page's <dialog>: once htmx has wired its form (after
  // settling), open it modally, which moves focus into it (to the autofocus Cancel); Esc
  // closes it natively.
  document.addEventListener("htmx:afterSettle", function (event) {
    var dialog = document.getElementById("confirm-dialog");
    if (dialog && event.detail.target === dialog && !dialog.open) dialog.showModal();
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (isPoller(event.detail.elt)) return;
    var dialog = document.getElementById("confirm-dialog");
    if (dialog && !dialog.contains(event.detail.elt)) opener = document.activeElement;
  });

  // Cancel is a link back to the list for plain HTML; in the dialog it only closes.
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest("[data-close-dialog]");
    var dialog = cancel && cancel.closest("dialog");
    if (dialog) {
      event.preventDefault();
      dialog.close();
    }
  });

  // Confirmed: the table was swapped in place, so close the dialog.
  document.addEventListener("htmx:afterRequest", function (event) {
    var dialog = event.detail.elt.closest && event.detail.elt.closest("dialog");
    if (dialog && event.detail.successful && event.detail.target !== dialog) dialog.close();
  });

  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (dialog.id !== "confirm-dialog") return;
    dialog.replaceChildren();
    // Focus goes back where it was; if that was swapped away, to what tells what happened.
    var back = opener && opener.isConnected ? opener
      : document.getElementById("contacts-messages") || document.getElementById("action-unlink");
    opener = null;
    if (back) back.focus();
  }, true);

  // A swap replaces what had focus (a sort or pager link, an action button): focus goes to the
  // same control in the new content, else to the messages that say what happened, else to the
  // table, rather than back to the top of the page.
  var focused = null;

  function focusKey(el) {
    if (el.id) return {selector: "#" + CSS.escape(el.id)};
    var th = el.closest("th");
    if (th && el.matches("a.sort")) return {selector: "thead th:nth-child(" + (th.cellIndex + 1) + ") a.sort"};
    if (el.closest(".pager")) return {selector: ".pager a", text: el.textContent.trim()};
    if (el.name && el.value) return {selector: '[name="' + CSS.escape(el.name) + '"][value="' + CSS.escape(el.value) + '"]'};
    return {selector: null};
  }

  // What had focus when the request left: a pressed button is disabled while it is under
  // way (hx-disabled-elt), which takes focus from it before the answer is swapped in.
  var requested = null;

  function keyWithin(target) {
    var active = document.activeElement;
    return target && active && active !== document.body && target.contains(active) ? focusKey(active) : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (isPoller(event.detail.elt)) return;
    requested = keyWithin(event.detail.target);
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (isPoller(event.detail.elt)) return;
    var target = event.detail.target;
    var before = requested;
    requested = null;
    // A row swapped by its own action puts focus in the row itself (row-done, below).
    if (target && target.matches && target.matches("tr")) { focused = null; return; }
    focused = keyWithin(target) || before;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (isPoller(event.detail.elt)) return;
    var key = focused;
    focused = null;
    if (!key || (document.activeElement && document.activeElement !== document.body)) return;
    var root = event.detail.target.isConnected ? event.detail.target : document;
    var candidates = key.selector ? Array.from(root.querySelectorAll(key.selector)).filter(function (el) {
      return !el.disabled;
    }) : [];
    // A pager link by its text ("Next ›"), or the other one when it is gone (the last page).
    var same = candidates.filter(function (el) { return !key.text || el.textContent.trim() === key.text; })[0]
      || candidates[0];
    var messages = document.getElementById("contacts-messages");
    var table = document.getElementById("contacts") || document.getElementById("transactions");
    var next = same || messages || table;
    if (!next) return;
    if (next === table) table.tabIndex = -1;
    next.focus();
  });

  // A row's own action answers with that row alone (sync.dashboard.contacts.contact_row),
  // swapped in place: say what it did in the live region that was in the page before the
  // swap (a region swapped in is not read out), and put focus in the row, on what the action
  // said or else on the row's next action.
  document.addEventListener("row-done", function (event) {
    var announcer = document.getElementById("row-announcer");
    if (announcer) {
      announcer.textContent = "";
      setTimeout(function () { announcer.textContent = event.detail.message || ""; }, 50);
    }
    var row = document.getElementById(event.detail.row);
    if (!row) return;
    var next = row.querySelector(".row-note, .row-result")
      || row.querySelector(".row-actions button, .row-actions a, .match-actions button, .xero-search input")
      || row.querySelector(".contact-name");
    if (next) next.focus({ preventScroll: true });
  });

  // The Search column: Down from the search box goes to the first result's Link button, Up
  // and Down move between the results' buttons, Up from the first goes back to the box.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var search = event.target.closest && event.target.closest(".xero-search");
    if (!search) return;
    var box = search.querySelector('input[type="search"]');
    var buttons = Array.from(search.querySelectorAll(".suggestions button:not([disabled])"));
    var at = buttons.indexOf(event.target);
    var next = null;
    if (event.target === box) next = event.key === "ArrowDown" ? buttons[0] : null;
    else if (at >= 0) next = event.key === "ArrowDown" ? buttons[at + 1] : (buttons[at - 1] || box);
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });

  // Each poll names the rows the page shows (only those come back), the jobs whose progress
  // it shows (their own bar tells their end), and the list it is (for the rows' actions);
  // none is sent while the tab is hidden.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!isPoller(event.detail.elt)) return;
    if (document.visibilityState === "hidden") {
      event.preventDefault();
      return;
    }
    var ids = function (selector, attribute) {
      return Array.from(document.querySelectorAll(selector)).map(function (el) {
        return attribute ? el.getAttribute(attribute) : el.id.replace(/^\D+-/, "");
      });
    };
    var params = event.detail.parameters;
    params.row = ids('#contacts > tbody > tr[id^="contact-"], #transactions > tbody > tr[id^="transaction-"]');
    params.upload = ids("[data-upload]", "data-upload");
    params.sync = ids("[data-sync]", "data-sync");
    params.next = location.pathname + location.search;
  });

  // A row that changed by itself is swapped in place; if it held focus, focus goes to the
  // same control in the new row, without scrolling.
  var refocus = null;

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var active = document.activeElement;
    refocus = active && event.detail.target.contains(active) ? focusKey(active) : null;
    if (refocus) refocus.row = event.detail.target.id;
  });

  document.addEventListener("htmx:oobAfterSwap", function () {
    var key = refocus;
    refocus = null;
    var row = key && key.selector && document.getElementById(key.row);
    var same = row && row.querySelector(key.selector);
    if (same) same.focus({ preventScroll: true });
  });

  // What changed by itself, said in the page's live region.
  document.addEventListener("live-rows", function (event) {
    var announcer = document.getElementById("row-announcer");
    if (!announcer) return;
    announcer.textContent = "";
    setTimeout(function () { announcer.textContent = event.detail.message || ""; }, 50);
  });

  document.addEventListener("DOMContentLoaded", showCount);
})();
