/* Staff console: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // One click, one request: a submitted form's buttons wait for the next page.
  function guardDoubleSubmit() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
      if (form.dataset.sent === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      // Disabled after the submission has taken the clicked button's name and value.
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) {
          b.disabled = true;
          b.setAttribute("aria-busy", "true");
        });
      }, 0);
    });
    // Back/forward cache: a page shown again must be usable again.
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form[data-sent]").forEach(function (form) {
        delete form.dataset.sent;
        form.querySelectorAll("button").forEach(function (b) {
          b.disabled = false;
          b.removeAttribute("aria-busy");
        });
      });
    });
  }

  function formatSize(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1).replace(".", ",") + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  // Chosen photos: a preview and a size check before anything is sent.
  function photoPreviews() {
    document.querySelectorAll('input[type="file"][data-max-bytes]').forEach(function (input) {
      var list = document.querySelector('ul.file-list[data-for="' + input.id + '"]');
      if (!list) return;
      var urls = [];
      input.addEventListener("change", function () {
        urls.forEach(function (u) { URL.revokeObjectURL(u); });
        urls = [];
        list.textContent = "";
        var total = 0;
        var files = Array.prototype.slice.call(input.files || []);
        files.forEach(function (file) {
          total += file.size;
          var item = document.createElement("li");
          if (/^image\/(jpeg|png|webp)$/.test(file.type)) {
            var url = URL.createObjectURL(file);
            urls.push(url);
            var img = document.createElement("img");
            img.src = url;
            img.alt = "Xem trước " + file.name;
            item.appendChild(img);
          }
          item.appendChild(document.createTextNode(file.name + " (" + formatSize(file.size) + ")"));
          list.appendChild(item);
        });
        var problem = "";
        if (files.length > Number(input.dataset.maxFiles)) {
          problem = "Chọn tối đa " + input.dataset.maxFiles + " ảnh.";
        } else if (total > Number(input.dataset.maxBytes)) {
          problem = "Tổng dung lượng " + formatSize(total) + " vượt quá " +
            formatSize(Number(input.dataset.maxBytes)) + ". Hãy gửi ít ảnh hơn mỗi lần.";
        }
        input.setCustomValidity(problem);
        if (problem) {
          var warn = document.createElement("li");
          warn.className = "too-big";
          warn.textContent = problem;
          list.appendChild(warn);
        }
      });
    });
  }

  // Keyboard: "/" goes to the code box; in the queue j/k move between reports, Enter opens.
  function keyboard() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr"));
    var current = -1;
    function typing(target) {
      return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    }
    function select(index) {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, index));
      rows.forEach(function (row, i) { row.classList.toggle("current", i === current); });
      var link = rows[current].querySelector("a.open-report");
      if (link) link.focus();
    }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      if (event.key === "/") {
        var box = document.getElementById("goto-code");
        if (box) {
          event.preventDefault();
          box.focus();
        }
      } else if (rows.length && (event.key === "j" || event.key === "k")) {
        event.preventDefault();
        select(current + (event.key === "j" ? 1 : -1));
      }
    });
  }

  // The session ends after the idle time: say so before it happens, and when it has.
  function idleWarning() {
    var seconds = Number(document.body.dataset.idleSeconds || 0);
    var banner = document.getElementById("idle-warning");
    if (!seconds || !banner) return;
    var started = Date.now();
    var warnAt = Math.max(seconds - 120, seconds * 0.8);
    var timer = window.setInterval(function () {
      var elapsed = (Date.now() - started) / 1000;
      if (elapsed >= seconds) {
        banner.textContent = "Phiên làm việc có thể đã hết hạn do không thao tác. Tải lại trang (đăng nhập lại nếu được hỏi).";
        banner.hidden = false;
        window.clearInterval(timer);
      } else if (elapsed >= warnAt) {
        var left = Math.ceil((seconds - elapsed) / 60);
        banner.textContent = "Phiên làm việc sẽ hết hạn sau khoảng " + left +
          " phút nếu không thao tác. Hãy lưu nội dung đang nhập.";
        banner.hidden = false;
      }
    }, 15000);
  }

  // An action panel that came back with an error: bring it into view.
  function focusRefusedForm() {
    var error = document.querySelector("details.action[open] .form-error, details.action[open] .form-notice, form.one-click .form-error");
    if (!error) return;
    error.setAttribute("tabindex", "-1");
    error.scrollIntoView({ block: "center" });
    error.focus({ preventScroll: true });
  }

  function start() {
    guardDoubleSubmit();
    photoPreviews();
    keyboard();
    idleWarning();
    focusRefusedForm();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
