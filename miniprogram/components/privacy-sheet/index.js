// 隐私保护指引 before the first report: 同意 (open-type="agreePrivacyAuthorization", which also tells
// WeChat) or 不同意 (nothing is sent; the page says why it cannot go on).
const privacy = require('../../utils/privacy')

Component({
  options: { styleIsolation: 'apply-shared' },
  data: { guide: privacy.GUIDE },
  methods: {
    agree() {
      privacy.agree()
      this.triggerEvent('agree')
    },
    decline() {
      privacy.decline()
      this.triggerEvent('decline')
    },
    openContract() { privacy.openContract() },
  },
})
