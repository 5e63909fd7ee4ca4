// 双报到: a resident registers with a community as an 在职党员, 志愿者 or a 共建单位's contact
// (POST /api/v1/volunteers); then the community's published wishes are theirs to claim.
const api = require('../../utils/api')
const ui = require('../../utils/ui')

const KINDS = [
  { value: 'party_member', label: '在职党员' },
  { value: 'volunteer', label: '志愿者' },
  { value: 'unit_contact', label: '共建单位联系人' },
]

Component({
  data: {
    large: false, loading: true, error: '', busy: false, communities: [], memberships: [], communityIndex: -1,
    kinds: KINDS, kind: 'volunteer', name: '', workplace: '', skills: '', hours: '', joinCode: '', fieldErrors: [],
  },
  methods: {
    onLoad() {
      this.setData({ large: ui.isLarge() })
      return this.load()
    },
    retry() { return this.sendFailed ? this.register() : this.load() },
    async load() {
      this.setData({ loading: true, error: '' })
      try {
        const board = await api.get('/api/v1/wishes')
        this.setData({ loading: false, communities: board.communities, memberships: board.memberships,
          communityIndex: board.communities.length === 1 ? 0 : -1 })
      } catch (err) {
        this.setData({ loading: false, error: ui.errorText(err) })
      }
    },
    pickCommunity(e) { this.setData({ communityIndex: Number(e.detail.value) }) },
    pickKind(e) { this.setData({ kind: e.detail.value }) },
    onName(e) { this.setData({ name: e.detail.value }) },
    onWorkplace(e) { this.setData({ workplace: e.detail.value }) },
    onSkills(e) { this.setData({ skills: e.detail.value }) },
    onHours(e) { this.setData({ hours: e.detail.value }) },
    onJoinCode(e) { this.setData({ joinCode: e.detail.value }) },
    async register() {
      const community = this.data.communities[this.data.communityIndex]
      if (!community) return this.setData({ fieldErrors: ['请选择报到的社区'] })
      if (!this.data.name.trim()) return this.setData({ fieldErrors: ['请填写姓名'] })
      const body = { community: community.id, kind: this.data.kind, name: this.data.name.trim(), skills: this.data.skills,
        hours_available: Number(this.data.hours) || 0 }
      if (this.data.workplace.trim()) body.workplace = this.data.workplace.trim()
      if (this.data.kind === 'unit_contact') body.join_code = this.data.joinCode.trim()
      this.setData({ busy: true, error: '', fieldErrors: [] })
      try {
        await api.post('/api/v1/volunteers', body)
        this.sendFailed = false
        this.setData({ busy: false })
        wx.showToast({ title: '报到成功', icon: 'success' })
        wx.navigateBack({ delta: 1 })
      } catch (err) {
        this.sendFailed = err.retryable
        const fieldErrors = Object.keys(err.fields || {}).map((k) => [].concat(err.fields[k]).join('；'))
        this.setData({ busy: false, fieldErrors, error: err.retryable ? ui.errorText(err) : '' })
        if (!err.retryable && !fieldErrors.length) this.setData({ fieldErrors: [ui.errorText(err)] })
      }
      return null
    },
  },
})
