// One wish with exactly the buttons its allowed_actions give: a member claims (认领), releases
// (放弃认领) or fulfils it (完成情况, hours); the wisher confirms (确认完成) or withdraws (撤回).
const api = require('../../utils/api')
const ui = require('../../utils/ui')

const ACTIONS = {
  claim: { label: '认领这个心愿', primary: true, done: '认领成功，请在时限内完成' },
  fulfil: { label: '提交完成情况', primary: true, done: '已提交，等待居民确认' },
  confirm: { label: '确认完成', primary: true, done: '已确认，谢谢您的反馈' },
  release: { label: '放弃认领', done: '已放弃认领' },
  withdraw: { label: '撤回心愿', done: '已撤回' },
}

Component({
  data: { large: false, loading: true, error: '', notice: '', busy: false, wish: null, can: {}, actions: [], due: '', evidence: '', hours: '' },
  methods: {
    onLoad(query) {
      this.wishId = query.id
      this.setData({ large: ui.isLarge() })
      return this.load()
    },
    retry() { return this.failed ? this.failed() : this.load() },
    async load() {
      this.failed = null
      this.setData({ loading: !this.data.wish, error: '' })
      try {
        this.show(await api.get('/api/v1/wishes/' + this.wishId))
        this.setData({ loading: false })
      } catch (err) {
        this.setData({ loading: false, error: ui.errorText(err) })
      }
    },
    show(wish) {
      const can = {}
      wish.allowed_actions.forEach((a) => { can[a] = true })
      const actions = wish.allowed_actions.filter((a) => ACTIONS[a]).map((a) => Object.assign({ name: a }, ACTIONS[a]))
      this.setData({ wish, can, actions, due: ui.when(wish.claim_due_at) })
    },
    onEvidence(e) { this.setData({ evidence: e.detail.value }) },
    onHours(e) { this.setData({ hours: e.detail.value }) },
    async act(e) {
      const name = typeof e === 'string' ? e : e.currentTarget.dataset.name
      const body = {}
      if (name === 'fulfil') {
        if (!this.data.evidence.trim()) return this.setData({ error: '请写下完成情况' })
        body.evidence = this.data.evidence.trim()
        body.hours = Number(this.data.hours) || 0
      }
      this.setData({ busy: true, error: '', notice: '' })
      this.failed = () => this.act(name)
      try {
        this.show(await api.post(`/api/v1/wishes/${this.wishId}/${name}`, body))
        this.failed = null
        this.setData({ busy: false, notice: ACTIONS[name].done })
      } catch (err) {
        this.setData({ busy: false, error: ui.errorText(err) })
      }
      return null
    },
  },
})
