// A failed call as the resident sees it: what went wrong, in Chinese, and a 重试 button. Never a blank page.
Component({
  options: { styleIsolation: 'apply-shared' },
  properties: { message: { type: String, value: '网络不给力，请点“重试”' } },
  methods: {
    retry() { this.triggerEvent('retry') },
  },
})
