// Progressive enhancement of the online forms: show conditional questions only when they apply, save the draft
// while typing, keep what was typed in this browser until the server has it (network down, session expired),
// and stop a second click from sending the submission twice. Without this script every form still works.
(function () {
  "use strict";

  function conditional(form) {
    var blocks = form.querySelectorAll("[data-show-if]");
    function update() {
      blocks.forEach(function (block) {
        var parts = block.getAttribute("data-show-if").split("=");
        var chosen = form.querySelector('input[name="' + parts[0] + '"]:checked');
        block.hidden = !(chosen && chosen.value === parts[1]);
      });
    }
    form.addEventListener("change", update);
    update();
  }

  // two encoded forms hold the same answers, whatever their order
  function sameAnswers(a, b) {
    function sorted(text) {
      var pairs = [];
      new URLSearchParams(text).forEach(function (value, name) { pairs.push(name + "=" + value); });
      return pairs.sort().join("&");
    }
    return sorted(a) === sorted(b);
  }

  function autosave(form) {
    var url = form.getAttribute("data-autosave");
    var key = "motcua-nhap:" + form.getAttribute("data-draft-key");
    var status = document.getElementById("trang-thai-luu");
    var timer = null;
    var saving = false;

    function body() {
      return new URLSearchParams(new FormData(form));
    }
    function say(text) {
      if (status) status.textContent = text;
    }
    function now() {
      var d = new Date();
      return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
    }

    // what the server did not get last time (offline, logged out) comes back into the fields
    try {
      var kept = localStorage.getItem(key);
      // the same as the page the server sent: nothing was lost, nothing to say
      if (kept && sameAnswers(kept, body().toString())) {
        localStorage.removeItem(key);
        kept = null;
      }
      if (kept) {
        var params = new URLSearchParams(kept);
        var names = {};
        params.forEach(function (_, name) { names[name] = true; });
        Object.keys(names).forEach(function (name) {
          var values = params.getAll(name);
          form.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
            if (el.type === "radio" || el.type === "checkbox") el.checked = values.indexOf(el.value) >= 0;
            else if (el.type !== "file" && el.type !== "hidden") el.value = values[0] || "";
          });
        });
        say("Đã khôi phục nội dung bạn nhập trước đó nhưng chưa kịp lưu. Bấm “Lưu” để lưu lại.");
      }
    } catch (e) { /* private mode: nothing kept */ }

    function save() {
      timer = null;
      if (saving) { timer = setTimeout(save, 1000); return; }
      var data = body();
      try { localStorage.setItem(key, data.toString()); } catch (e) { /* ignore */ }
      saving = true;
      fetch(url, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 204) {
            try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
            say("Đã tự động lưu lúc " + now() + ".");
          } else if (r.status === 401) {
            say("Phiên đăng nhập đã hết. Nội dung vẫn được giữ trên máy này: hãy đăng nhập lại rồi mở lại hồ sơ.");
          } else {
            say("Chưa lưu được (lỗi " + r.status + "). Nội dung vẫn được giữ trên máy này.");
          }
        })
        .catch(function () {
          say("Mất kết nối mạng. Nội dung vẫn được giữ trên máy này và sẽ được lưu khi có mạng.");
        })
        .then(function () { saving = false; });
    }
    function later() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, 1500);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    window.addEventListener("online", function () { if (localStorage.getItem(key)) save(); });
    form.addEventListener("submit", function () {
      // the server saves the page on submit; the browser copy goes once it has
      try { localStorage.setItem(key, body().toString()); } catch (e) { /* ignore */ }
    });
    window.addEventListener("pageshow", function () {
      // back on a page the server already saved: drop a stale copy only when this is a fresh load
      if (performance && performance.getEntriesByType) {
        var nav = performance.getEntriesByType("navigation")[0];
        if (nav && nav.type === "navigate" && document.querySelector(".error-summary") === null && !localStorage.getItem(key)) {
          say(status ? status.textContent : "");
        }
      }
    });
  }

  function once(button) {
    var form = button.form;
    form.addEventListener("submit", function (event) {
      // another button of the form (showing a checklist, say) sends nothing for good
      if (event.submitter && event.submitter !== button) return;
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      button.setAttribute("aria-disabled", "true");
      button.textContent = "Đang nộp hồ sơ…";
    });
  }

  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    conditional(form);
    autosave(form);
  });
  document.querySelectorAll("button[data-once]").forEach(once);
})();
