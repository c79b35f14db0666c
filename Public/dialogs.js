/*
 * Modal dialogs: every `.overlay` of the page. Whatever opens or closes one just sets its
 * `hidden`; this module does the rest, for all of them alike. While a dialog is open the page
 * behind it is inert, so keyboard focus and screen readers stay inside; Tab and Shift+Tab wrap
 * around its controls; Escape closes it (but for an alert dialog, which wants an answer); and
 * closing it gives focus back to what had it before it opened.
 */

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), '
  + 'textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

/** The open dialogs, the last one on top: each with what had focus and what it made inert. */
const open = [];
let lastOutside = null;

function focusables(dialog) {
  return [...dialog.querySelectorAll(FOCUSABLE)].filter((node) => node.getClientRects().length > 0);
}

function opened(dialog) {
  if (open.some((entry) => entry.dialog === dialog)) return;
  const inerted = [];
  // Everything beside the dialog and beside each of its ancestors, up to the body.
  for (let node = dialog; node && node !== document.body; node = node.parentElement) {
    for (const sibling of node.parentElement.children) {
      if (sibling !== node && !sibling.inert && !sibling.classList.contains('overlay')) {
        sibling.inert = true;
        inerted.push(sibling);
      }
    }
  }
  open.push({ dialog, opener: lastOutside, inerted });
  if (!dialog.contains(document.activeElement)) (focusables(dialog)[0] || dialog).focus();
}

function closed(dialog) {
  const index = open.findIndex((entry) => entry.dialog === dialog);
  if (index < 0) return;
  const [entry] = open.splice(index, 1);
  for (const node of entry.inerted) node.inert = false;
  if (entry.opener?.isConnected && entry.opener.getClientRects().length > 0) entry.opener.focus();
}

/** Watches the page's dialogs; call once. */
export function watchDialogs() {
  const overlays = [...document.querySelectorAll('.overlay')];
  for (const dialog of overlays) {
    if (!dialog.hasAttribute('tabindex')) dialog.tabIndex = -1;
  }
  document.addEventListener('focusin', (event) => {
    if (!event.target.closest('.overlay')) lastOutside = event.target;
  });
  new MutationObserver((records) => {
    for (const { target } of records) {
      if (target.classList.contains('overlay')) (target.hidden ? closed : opened)(target);
    }
  }).observe(document.body, { attributes: true, attributeFilter: ['hidden'], subtree: true });
  document.addEventListener('keydown', (event) => {
    const top = open.at(-1)?.dialog;
    if (!top) return;
    if (event.key === 'Escape' && top.getAttribute('role') !== 'alertdialog') {
      top.hidden = true;
    } else if (event.key === 'Tab') {
      const controls = focusables(top);
      if (controls.length === 0) return event.preventDefault();
      const first = controls[0];
      const last = controls.at(-1);
      if (event.shiftKey && (document.activeElement === first || !top.contains(document.activeElement))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !top.contains(document.activeElement))) {
        event.preventDefault();
        first.focus();
      }
    }
  });
}
