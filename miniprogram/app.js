// 红色信箱 — the residents' mini-program. Every page talks to the backend's resident API through
// utils/api.js (silent sign-in, renewed on 401); where the backend is: config.js.
const privacy = require('./utils/privacy')

App({
  onLaunch() {
    // WeChat asks before an API that collects personal data (chooseLocation, chooseMedia) runs when
    // the resident has not agreed yet: the page on screen shows the guide (components/privacy-sheet).
    privacy.listen()
  },
  globalData: {},
})
