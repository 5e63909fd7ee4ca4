// Posting a wish (POST /api/v1/wishes): the community checks it before it goes on the board. The
// form's client_id makes a double tap or a retry one wish, not two.
const api = require('../../utils/api')
const ui = require('../../utils/ui')
const privacy = require('../../utils/privacy')

Component({
  data: {
    large: false, loading: true, error: '', busy: false, showPrivacy: false, communities: [], communityIndex: -1,
    text: '', beneficiary: '', wantedBy: '', errors: {},
  },
  methods: {
    onLoad() {
      this.clientId = api.clientId()
      this.setData({ large: ui.isLarge(), showPrivacy: !privacy.agreed() })
      return this.load()
    },
    async load() {
      this.setData({ loading: true, error: '' })
      try {
        const board = await api.get('/api/v1/wishes')
        this.setData({ loading: false, communities: board.communities, communityIndex: board.communities.length === 1 ? 0 : -1 })
      } catch (err) {
        this.setData({ loading: false, error: ui.errorText(err) })
      }
    },
    retry() { return this.sendFailed ? this.submit() : this.load() },
    privacyAgreed() { this.setData({ showPrivacy: false }) },
    privacyDeclined() { wx.navigateBack({ delta: 1 }) },
    pickCommunity(e) { this.setData({ communityIndex: Number(e.detail.value), errors: {} }) },
    onText(e) { this.setData({ text: e.detail.value, errors: {} }) },
    onBeneficiary(e) { this.setData({ beneficiary: e.detail.value }) },
    pickDate(e) { this.setData({ wantedBy: e.detail.value }) },
    async submit() {
      const community = this.data.communities[this.data.communityIndex]
      const errors = {}
      if (!community) errors.community = '请选择社区'
      if (!this.data.text.trim()) errors.text = '请写下心愿内容'
      if (Object.keys(errors).length) { this.setData({ errors }); return }
      const body = { community: community.id, text: this.data.text.trim(), client_id: this.clientId }
      if (this.data.beneficiary.trim()) body.beneficiary = this.data.beneficiary.trim()
      if (this.data.wantedBy) body.wanted_by = this.data.wantedBy
      this.setData({ busy: true, error: '' })
      try {
        const wish = await api.post('/api/v1/wishes', body)
        this.sendFailed = false
        this.setData({ busy: false })
        wx.showToast({ title: '已提交，等社区审核', icon: 'success' })
        wx.redirectTo({ url: '/pages/wishes/detail?id=' + wish.id })
      } catch (err) {
        this.sendFailed = err.retryable
        const fields = {}
        Object.keys(err.fields || {}).forEach((k) => { fields[k] = [].concat(err.fields[k]).join('；') })
        this.setData({ busy: false, errors: fields, error: ui.errorText(err) })
      }
    },
  },
})
