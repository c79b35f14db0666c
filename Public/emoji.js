// The emoji picker a message's menu opens for reactions: the few everyone uses first, then a grid
// by theme, and a box that takes any other single emoji the device's keyboard can type (the server
// accepts any one emoji grapheme; see docs/PROTOCOL.md, "react").
import { el } from './views.js';

/** The reactions shown first in a message's menu. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

const THEMES = [
  ['Smileys', '😀 😃 😄 😁 😆 😅 🤣 😊 😇 🙂 😉 😌 😍 🥰 😘 😋 😛 😜 🤪 🤗 🤭 🤫 🤔 🤨 😐 😑 😶 🙄 😏 😬 😴 😷 🤒 🤯 🥳 😎 🤓 😕 😟 🙁 😲 🥺 😭 😤 😡 🤬 😱 😳 🥱 💩 🤡 👻 💀'],
  ['Hands and people', '👍 👎 👏 🙌 👐 🤝 🙏 ✌️ 🤞 🤟 🤘 👌 🤌 👈 👉 👆 👇 ☝️ ✋ 👋 💪 🫶 👀 🧠 👶 🧒 👦 👧 🧑 👨 👩 🧓 👴 👵 🤷 🙋 🙈 🙉 🙊'],
  ['Hearts and symbols', '❤️ 🧡 💛 💚 💙 💜 🖤 🤍 🤎 💔 ❣️ 💕 💞 💓 💗 💖 💘 💯 ✅ ❌ ❓ ❗ ⭐ 🌟 ✨ ⚡ 🔥 💥 🎉 🎊 🎈 🎁 🏆 🥇 💤 💬'],
  ['Animals and nature', '🐶 🐱 🐭 🐹 🐰 🦊 🐻 🐼 🐨 🐯 🦁 🐮 🐷 🐸 🐵 🐔 🐧 🐦 🦆 🦉 🐴 🦄 🐝 🦋 🐢 🐍 🐙 🐬 🐳 🌸 🌹 🌻 🌷 🌲 🍀 🍁 🌈 ☀️ 🌙 ⛄ ❄️ 🌊'],
  ['Food and drink', '🍎 🍐 🍊 🍋 🍌 🍉 🍇 🍓 🍒 🍑 🥭 🍍 🥝 🍅 🥑 🥕 🌽 🥦 🍞 🧀 🥚 🍳 🥞 🥓 🍔 🍟 🍕 🌭 🥪 🌮 🍝 🍜 🍣 🍦 🍩 🍪 🎂 🍰 🍫 🍬 ☕ 🍵 🍺 🍷 🥂'],
  ['Activities and places', '⚽ 🏀 🏈 ⚾ 🎾 🏐 🎱 🏓 🎯 🎮 🎲 🧩 🎨 🎬 🎤 🎧 🎸 🎹 📚 ✏️ 🏠 🏡 🏫 🏥 🚗 🚌 🚲 ✈️ 🚀 ⛵ 🏖️ ⛺ 🗺️ ⏰ 📅 📷 📱 💻 🎄 🎃'],
].map(([name, list]) => [name, list.split(' ')]);

const segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

/** The one emoji typed in `text`, or null if it is not exactly one emoji. */
export function singleEmoji(text) {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const graphemes = segmenter ? [...segmenter.segment(trimmed)] : [trimmed];
  if (graphemes.length !== 1) return null;
  return /\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(trimmed) ? trimmed : null;
}

/**
 * A grid of emoji by theme, with the recently used first and a box for any other; `pick(emoji)`
 * is called with the chosen one. `own` says which the user has already reacted with (shown pressed).
 */
export function emojiPicker({ recent, own, pick }) {
  const picker = el('div', 'emoji-picker');
  picker.dataset.testid = 'emoji-picker';
  const chip = (emoji) => {
    const button = el('button', 'emoji' + (own.includes(emoji) ? ' own' : ''), emoji);
    button.type = 'button';
    button.dataset.emoji = emoji;
    button.setAttribute('aria-pressed', own.includes(emoji) ? 'true' : 'false');
    button.addEventListener('click', () => pick(emoji));
    return button;
  };
  const form = el('form', 'emoji-other');
  const input = el('input');
  input.type = 'text';
  input.placeholder = 'Or type any emoji';
  input.setAttribute('aria-label', 'Any emoji');
  input.dataset.testid = 'emoji-input';
  input.maxLength = 32;
  const hint = el('span', 'hint');
  hint.setAttribute('role', 'status');
  const add = el('button', 'secondary small', 'React');
  add.type = 'submit';
  form.append(input, add);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const emoji = singleEmoji(input.value);
    if (emoji) pick(emoji);
    else hint.textContent = 'Type a single emoji, such as 🎉.';
  });
  picker.append(form, hint);
  const themes = recent.length > 0 ? [['Recently used', recent], ...THEMES] : THEMES;
  for (const [name, list] of themes) {
    const group = el('div', 'emoji-grid');
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', name);
    group.append(...list.map(chip));
    picker.append(el('p', 'emoji-theme', name), group);
  }
  return picker;
}
